package dev.gatehouse.serving.engine;

/**
 * How full one model's engine is, as a snapshot any thread may read (the router's "serve locally
 * or spill" signal). The engine publishes each one whole, so its figures agree with each other:
 * {@code running + freeSlots == totalSlots()} and the KV bytes follow the free slots.
 *
 * <p>KV memory is counted as <em>reserved</em>: a running sequence holds a whole slot of
 * {@code maxModelLength} positions from admission to its end, however few of them it has filled,
 * so {@code kvBytesUsed} is the bytes of the slots taken and {@link #kvBytesFree()} is exactly
 * what new requests can still get. Both follow {@code freeSlots}, which a leaked slot would keep
 * below {@link #totalSlots()} after the engine goes idle.
 *
 * @param maxRunning          sequences decoded together; one KV slot each, so also the number of slots
 * @param freeSlots           KV slots no sequence holds: requests that could start at once
 * @param kvBytesUsed         KV memory reserved by the slots taken
 * @param kvBytesTotal        KV memory preallocated for all slots
 * @param estimatedWaitMillis how long a request submitted now would likely wait for its first token
 */
public record Capacity(int running, int waiting, int maxRunning, int maxWaiting, int freeSlots, long kvBytesUsed,
                       long kvBytesTotal, long estimatedWaitMillis) {

    public boolean queueFull() {
        return waiting >= maxWaiting;
    }

    public int totalSlots() {
        return maxRunning;
    }

    public long kvBytesFree() {
        return kvBytesTotal - kvBytesUsed;
    }
}
