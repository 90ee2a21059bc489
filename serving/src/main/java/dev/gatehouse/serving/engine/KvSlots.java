package dev.gatehouse.serving.engine;

import java.util.ArrayDeque;
import java.util.BitSet;

/**
 * Which KV-cache slots are free. A sequence takes one at admission and gives it back exactly once
 * when it finishes, fails or is cancelled; giving back a slot that is not taken is a bug that would
 * let two sequences write the same memory, so it throws instead. Engine thread only.
 */
final class KvSlots {
    private final int total;
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final BitSet taken = new BitSet();

    KvSlots(int total) {
        this.total = total;
        for (int s = 0; s < total; s++) {
            free.add(s);
        }
    }

    /** A free slot, now taken; -1 when none is free. */
    int take() {
        Integer slot = free.poll();
        if (slot == null) {
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
        free.add(slot);
    }

    int free() {
        return free.size();
    }

    int total() {
        return total;
    }
}
