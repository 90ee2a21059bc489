package dev.gatehouse.serving.engine;

import java.util.PriorityQueue;

/**
 * How long a request submitted now would wait for its first token. The engine's queue is played
 * forward: a slot frees when its sequence has generated its token limit (an upper bound, as eos
 * often comes sooner); the requests queued ahead take the freed slots in arrival order and each
 * then holds its slot for its own limit; the new request gets the next slot after them. On top of
 * those decode steps comes the prefill of every prompt that must be processed before it (the rest
 * of the running prompts and every queued prompt: one thread does all the work), each forward
 * pass costing about a decode step plus a price per prompt token, and one more step for its own
 * prefill and first token.
 */
final class WaitEstimate {
    private WaitEstimate() {}

    /**
     * @param freeSlots            slots free now
     * @param runningRemaining     for each running sequence, tokens it may still generate
     * @param queuedLimits         for each queued request in arrival order, the tokens it may generate
     * @param prefillPassesAhead   forward passes that prefill those prompts (a long one takes several chunks)
     * @param promptTokensAhead    prompt tokens to prefill before the new request's own
     * @param decodeStepNanos      recent duration of one batched decode pass
     * @param prefillNanosPerToken recent cost of a prompt token in a prefill pass, beyond the pass's decode-step cost
     */
    static long nanos(int freeSlots, int[] runningRemaining, int[] queuedLimits, int prefillPassesAhead,
                      long promptTokensAhead, double decodeStepNanos, double prefillNanosPerToken) {
        PriorityQueue<Long> slotFreeAtStep = new PriorityQueue<>();
        for (int s = 0; s < freeSlots; s++) {
            slotFreeAtStep.add(0L);
        }
        for (int remaining : runningRemaining) {
            slotFreeAtStep.add((long) Math.max(0, remaining));
        }
        long admittedAtStep = 0;
        if (!slotFreeAtStep.isEmpty()) {
            for (int limit : queuedLimits) {
                slotFreeAtStep.add(slotFreeAtStep.poll() + limit);
            }
            admittedAtStep = slotFreeAtStep.poll();
        }
        return (long) ((admittedAtStep + prefillPassesAhead + 1) * decodeStepNanos + promptTokensAhead * prefillNanosPerToken);
    }
}
