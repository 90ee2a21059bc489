package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class KvBlocksTest {
    private static final int[] TOKENS = {1, 2, 3, 4, 5, 6, 7, 8};

    @Test
    void blocksAreHandedOutUntilAllAreHeldAndComeBackOnce() {
        KvBlocks blocks = new KvBlocks(2, true);
        int a = blocks.allocate();
        int b = blocks.allocate();
        assertNotEquals(a, b);
        assertEquals(-1, blocks.allocate());
        assertEquals(0, blocks.available());
        blocks.release(a);
        assertEquals(1, blocks.available());
        assertThrows(IllegalStateException.class, () -> blocks.release(a));
        assertThrows(IllegalStateException.class, () -> blocks.release(7));
        assertEquals(a, blocks.allocate());
    }

    @Test
    void aRegisteredBlockIsSharedAndOutlivesItsHolders() {
        KvBlocks blocks = new KvBlocks(3, true);
        BlockHash hash = BlockHash.of(null, TOKENS, 0, 4);
        int block = blocks.allocate();
        blocks.register(block, hash, TOKENS, 0, 4);
        assertEquals(block, blocks.hit(hash, TOKENS, 0, 4), "a second sequence holds it too");
        assertEquals(1, blocks.held());
        blocks.release(block);
        blocks.release(block);
        assertEquals(0, blocks.held());
        assertEquals(1, blocks.cached(), "kept for the next prompt with this prefix");
        assertEquals(block, blocks.hit(hash, TOKENS, 0, 4));
    }

    @Test
    void aHitComparesTheBlocksTokensAndTheChain() {
        KvBlocks blocks = new KvBlocks(2, true);
        BlockHash first = BlockHash.of(null, TOKENS, 0, 4);
        int block = blocks.allocate();
        blocks.register(block, first, TOKENS, 0, 4);
        assertEquals(-1, blocks.hit(first, TOKENS, 4, 4), "same key, other tokens: never served");
        assertNotEquals(BlockHash.of(first, TOKENS, 4, 4), BlockHash.of(null, TOKENS, 4, 4), "a key stands for its whole prefix");
    }

    @Test
    void theLeastRecentlyReleasedCachedBlockIsEvictedFirstAndNeverUsedOnesBeforeAny() {
        KvBlocks blocks = new KvBlocks(3, true);
        BlockHash older = BlockHash.of(null, TOKENS, 0, 4);
        BlockHash newer = BlockHash.of(null, TOKENS, 4, 4);
        int a = blocks.allocate();
        int b = blocks.allocate();
        blocks.register(a, older, TOKENS, 0, 4);
        blocks.register(b, newer, TOKENS, 4, 4);
        blocks.release(a);
        blocks.release(b);
        int unused = blocks.allocate();
        assertNotEquals(a, unused);
        assertNotEquals(b, unused);
        assertEquals(2, blocks.cached(), "the never-used block went first");
        assertEquals(a, blocks.allocate(), "then the least recently used cached block");
        assertEquals(-1, blocks.hit(older, TOKENS, 0, 4), "evicted");
        assertEquals(b, blocks.hit(newer, TOKENS, 4, 4), "still cached");
    }

    @Test
    void withPrefixCachingOffNothingIsRegistered() {
        KvBlocks blocks = new KvBlocks(2, false);
        BlockHash hash = BlockHash.of(null, TOKENS, 0, 4);
        int block = blocks.allocate();
        blocks.register(block, hash, TOKENS, 0, 4);
        assertEquals(0, blocks.cached());
        assertEquals(-1, blocks.hit(hash, TOKENS, 0, 4));
    }
}
