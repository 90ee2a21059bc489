package dev.gatehouse.serving.engine;

/**
 * How full one model's engine is, as a snapshot any thread may read (the router's "serve locally
 * or spill" signal). The engine publishes each one whole, so its figures agree with each other:
 * {@code running + freeSlots == totalSlots()}, and no KV memory is held when nothing runs.
 *
 * <p>KV memory is handed out in blocks as sequences grow, so {@code kvBytesUsed} is the blocks
 * running sequences hold now and {@link #kvBytesFree()} what is left for new tokens (cached prefix
 * blocks no sequence holds count as free: they are evicted when needed). A request is admitted
 * when a batch place is free and its prompt's blocks are; a leaked block would keep
 * {@code kvBytesUsed} above zero after the engine goes idle.
 *
 * @param maxRunning          sequences decoded together, so also the number of batch places ("slots")
 * @param freeSlots           batch places no sequence holds
 * @param kvBytesUsed         KV memory held by running sequences
 * @param kvBytesTotal        KV memory preallocated for the block pool
 * @param cachedBlocks        KV blocks holding a prefix later prompts can reuse (held or not)
 * @param estimatedWaitMillis how long a request submitted now would likely wait for its first token
 */
public record Capacity(int running, int waiting, int maxRunning, int maxWaiting, int freeSlots, long kvBytesUsed,
                       long kvBytesTotal, int cachedBlocks, long estimatedWaitMillis) {

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
