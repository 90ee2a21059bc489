package dev.gatehouse.serving.engine;

import dev.gatehouse.serving.load.ModelLoadException;

import java.util.Optional;

/**
 * Refuses a model that cannot fit before it loads, so a load never ends in the kernel's OOM killer
 * taking the whole server with it. What a model may have is the memory Linux reports free
 * ({@link HostMemory}), and where a limit is set ({@code --memory-limit-mb}) also that limit less
 * what the models already loaded are estimated to hold.
 *
 * @param limitBytes 0: only the measured memory counts
 */
public record MemoryBudget(long limitBytes) {
    public static final MemoryBudget MEASURED = new MemoryBudget(0);

    public MemoryBudget {
        if (limitBytes < 0) {
            throw new IllegalArgumentException("memory-limit-mb must be >= 0 (0 = what the machine has), got " + limitBytes);
        }
    }

    /** What a new model may take, and where that figure comes from; empty when nothing can be measured or set. */
    public Optional<HostMemory> free(long heldByLoaded) {
        Optional<HostMemory> measured = HostMemory.read();
        if (limitBytes == 0) {
            return measured;
        }
        long left = Math.max(0, limitBytes - heldByLoaded);
        HostMemory limited = new HostMemory(left, "memory-limit-mb " + (limitBytes >> 20)
                + (heldByLoaded > 0 ? ", " + MemoryEstimate.gb(heldByLoaded) + " held by loaded models" : ""));
        return measured.filter(m -> m.availableBytes() < left).or(() -> Optional.of(limited));
    }

    /** What to change when a model served by an engine does not fit. */
    public static final String SERVE_ADVICE = "set a smaller kv-cache-mb or max-running, unload another model, "
            + "or use a machine with more memory";

    /**
     * @param heldByLoaded what the models this process already serves are estimated to hold
     * @param advice       what the user can change, e.g. {@link #SERVE_ADVICE}
     * @throws ModelLoadException one line naming the model, the estimate, what is free and what to change
     */
    public void check(String model, MemoryEstimate estimate, long heldByLoaded, String advice) {
        Optional<HostMemory> free = free(heldByLoaded);
        if (free.isEmpty() || estimate.totalBytes() <= free.get().availableBytes()) {
            return;
        }
        throw new ModelLoadException("not loading " + model + ": it needs about " + MemoryEstimate.gb(estimate.totalBytes())
                + " on the CPU (" + estimate.breakdown() + ") but only " + MemoryEstimate.gb(free.get().availableBytes())
                + " is free (" + free.get().source() + "); " + advice);
    }
}
