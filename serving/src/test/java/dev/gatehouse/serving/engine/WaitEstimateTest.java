package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The wait estimate plays the queue forward; steps of 1 ms and 0.1 ms per prompt token keep the sums readable. */
class WaitEstimateTest {
    static final double STEP = 1_000_000;
    static final double PREFILL = 100_000;

    @Test
    void withAFreeSlotOnlyThePromptsAheadAndOneStepRemain() {
        // 40 prompt tokens in 2 passes: 2 steps + 40 * 0.1 ms, then one step of its own
        assertEquals(3 * 1_000_000 + 40 * 100_000, WaitEstimate.nanos(1, new int[] {50}, new int[0], 2, 40, STEP, PREFILL));
    }

    @Test
    void requestsQueuedAheadHoldTheFreedSlotsForTheirOwnLimit() {
        // both slots free after 20 steps, taken by the two queued requests for 200 steps each: ours starts at step 220
        assertEquals(221 * 1_000_000L, WaitEstimate.nanos(0, new int[] {20, 20}, new int[] {200, 200}, 0, 0, STEP, PREFILL));
    }

    @Test
    void queuedRequestsTakeWhicheverSlotFreesFirst() {
        // slots free at 5 and 10; queued 3 takes 5 (free at 8), 100 takes 8 (108), 7 takes 10 (17): ours at 17
        assertEquals(18 * 1_000_000L, WaitEstimate.nanos(0, new int[] {5, 10}, new int[] {3, 100, 7}, 0, 0, STEP, PREFILL));
    }

    @Test
    void freeSlotsGoToTheQueueFirst() {
        // one free slot, taken by the first queued request; the second waits for the running sequence (30 steps)
        assertEquals(31 * 1_000_000L, WaitEstimate.nanos(1, new int[] {30}, new int[] {500}, 0, 0, STEP, PREFILL));
    }

    @Test
    void nothingMeasuredYetEstimatesNoWait() {
        assertEquals(0, WaitEstimate.nanos(0, new int[] {30}, new int[] {10}, 1, 64, 0, 0));
    }
}
