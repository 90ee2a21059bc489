package dev.gatehouse.serving.engine;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * The KV cache's blocks: which are free and which sequences hold, and the prefix cache. A block is
 * reference-counted, since sequences that share a prompt prefix share its blocks. A full block is
 * registered under its {@link BlockHash}; when its last holder lets go it keeps its keys and values
 * for the next request with the same prefix, and is evicted, least recently used first, only when
 * a block is needed and no never-used one is left. Releasing a block that is not held is a bug that
 * would let two sequences write the same memory, so it throws instead. Engine thread only.
 */
final class KvBlocks {
    private final int total;
    private final boolean prefixCaching;
    private final int[] holders;
    private final BlockHash[] hashOf; // the key a block is registered under, else null
    private final int[][] tokensOf;   // a registered block's tokens, compared on a hit
    private final BitSet unused = new BitSet(); // lowest first, so a lone sequence's blocks tend to be consecutive (read as a view)
    private final LinkedHashSet<Integer> evictable = new LinkedHashSet<>(); // registered, unheld, oldest first
    private final Map<BlockHash, Integer> registered = new HashMap<>();
    private int held;

    KvBlocks(int total, boolean prefixCaching) {
        this.total = total;
        this.prefixCaching = prefixCaching;
        this.holders = new int[total];
        this.hashOf = new BlockHash[total];
        this.tokensOf = new int[total][];
        unused.set(0, total);
    }

    /** Blocks a sequence could take now: never-used ones and cached ones no sequence holds. */
    int available() {
        return total - held;
    }

    /** Blocks held by at least one sequence. */
    int held() {
        return held;
    }

    /** Blocks holding a registered prefix, held or not. */
    int cached() {
        return registered.size();
    }

    /** A block for one sequence, evicting the least recently used cached one if need be; -1 when all are held. */
    int allocate() {
        int block = unused.nextSetBit(0);
        if (block >= 0) {
            unused.clear(block);
        } else {
            Iterator<Integer> oldest = evictable.iterator();
            if (!oldest.hasNext()) {
                return -1;
            }
            block = oldest.next();
            oldest.remove();
            registered.remove(hashOf[block]);
            hashOf[block] = null;
            tokensOf[block] = null;
        }
        hold(block);
        return block;
    }

    /**
     * The cached block registered under {@code hash} whose tokens are {@code tokens[from, from + count)},
     * now held once more; -1 when there is none (or prefix caching is off).
     */
    int hit(BlockHash hash, int[] tokens, int from, int count) {
        Integer block = prefixCaching ? registered.get(hash) : null;
        if (block == null || !Arrays.equals(tokensOf[block], 0, count, tokens, from, from + count)) {
            return -1;
        }
        evictable.remove(block);
        hold(block);
        return block;
    }

    /** Registers a held, full block under its key, unless another block holds that prefix already. */
    void register(int block, BlockHash hash, int[] tokens, int from, int count) {
        if (!prefixCaching || hashOf[block] != null || registered.containsKey(hash)) {
            return;
        }
        registered.put(hash, block);
        hashOf[block] = hash;
        tokensOf[block] = Arrays.copyOfRange(tokens, from, from + count);
    }

    void release(int block) {
        if (block < 0 || block >= total || holders[block] == 0) {
            throw new IllegalStateException("KV block " + block + " released but not held");
        }
        if (--holders[block] == 0) {
            held--;
            if (hashOf[block] != null) {
                evictable.add(block); // most recently used last
            } else {
                unused.set(block);
            }
        }
    }

    private void hold(int block) {
        if (holders[block]++ == 0) {
            held++;
        }
    }
}
