package dev.gatehouse.serving.engine;

import java.util.BitSet;

/**
 * Which KV-cache slots are free. A sequence takes one at admission and gives it back exactly once
 * when it finishes, fails or is cancelled; giving back a slot that is not taken is a bug that would
 * let two sequences write the same memory, so it throws instead. Engine thread only.
 *
 * <p>The lowest free slot is handed out first, so sequences admitted together sit side by side and
 * a decode step reads their keys and values as one view instead of gathering them (a copy).
 */
final class KvSlots {
    private final int total;
    private final BitSet taken = new BitSet();

    KvSlots(int total) {
        this.total = total;
    }

    /** The lowest free slot, now taken; -1 when none is free. */
    int take() {
        int slot = taken.nextClearBit(0);
        if (slot >= total) {
            return -1;
        }
        taken.set(slot);
        return slot;
    }

    void release(int slot) {
        if (slot < 0 || slot >= total || !taken.get(slot)) {
            throw new IllegalStateException("KV slot " + slot + " released but not taken");
        }
        taken.clear(slot);
    }

    int free() {
        return total - taken.cardinality();
    }
}
