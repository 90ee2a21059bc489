package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class KvSlotsTest {
    @Test
    void handsOutTheLowestFreeSlotSoABatchStaysContiguous() {
        KvSlots slots = new KvSlots(4);
        assertEquals(0, slots.take());
        assertEquals(1, slots.take());
        assertEquals(2, slots.take());
        slots.release(0);
        slots.release(1);
        assertEquals(3, slots.free());
        assertEquals(0, slots.take()); // not 3: the freed low slots come back first
        assertEquals(1, slots.take());
        assertEquals(3, slots.take());
        assertEquals(-1, slots.take());
        assertEquals(0, slots.free());
    }

    @Test
    void aSlotGivenBackTwiceIsABug() {
        KvSlots slots = new KvSlots(2);
        int slot = slots.take();
        slots.release(slot);
        assertThrows(IllegalStateException.class, () -> slots.release(slot));
        assertThrows(IllegalStateException.class, () -> slots.release(5));
    }
}
