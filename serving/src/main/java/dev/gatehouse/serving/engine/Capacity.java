package dev.gatehouse.serving.engine;

/**
 * How full one model's engine is, as a snapshot any thread may read (the router's "serve locally
 * or spill" signal).
 *
 * @param estimatedWaitMillis how long a request submitted now would likely wait for its first token
 */
public record Capacity(int running, int waiting, int maxRunning, int maxWaiting, long kvBytesUsed,
                       long kvBytesTotal, long estimatedWaitMillis) {

    public boolean queueFull() {
        return waiting >= maxWaiting;
    }

    public long kvBytesFree() {
        return kvBytesTotal - kvBytesUsed;
    }
}
