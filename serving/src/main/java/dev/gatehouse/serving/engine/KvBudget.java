package dev.gatehouse.serving.engine;

/**
 * The KV cache budget when {@code kv-cache-mb} is not set: 1 GiB on the CPU; on a GPU a share of
 * the device memory still free once the model's weights are loaded, after a reserve for one
 * step's activations and the allocator's slack. The engine allocates no more than max-running
 * sequences of the model's length can use, so the budget is an upper bound, and a model loaded later
 * on the same GPU sizes itself from what is then free.
 */
final class KvBudget {
    static final long CPU_DEFAULT = 1L << 30;
    /** Share of the free memory above the reserve. */
    static final double GPU_SHARE = 0.9;
    /** A step's activations (a layer's attention scores at most, freed per layer) and allocator slack. */
    static final long GPU_RESERVE = 1L << 30;
    /** Below this the model cannot serve usefully: refuse with the figures instead. */
    static final long GPU_MINIMUM = 64L << 20;

    private KvBudget() {}

    /**
     * @param freeBytes device memory free after the weights loaded
     * @throws IllegalStateException when too little is left for a KV cache
     */
    static long fromFreeGpuMemory(long freeBytes) {
        long budget = (long) ((freeBytes - GPU_RESERVE) * GPU_SHARE);
        if (budget < GPU_MINIMUM) {
            throw new IllegalStateException("out of GPU memory: " + (freeBytes >> 20) + " MiB free after the weights, "
                    + "too little for a KV cache (" + (GPU_RESERVE >> 20) + " MiB are kept for activations); "
                    + "use a smaller model, another GPU, or set kv-cache-mb");
        }
        return budget;
    }
}
