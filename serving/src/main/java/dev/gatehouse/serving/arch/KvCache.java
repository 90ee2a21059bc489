package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;

/**
 * Keys and values of every layer in a pool of fixed-size blocks ({@link #BLOCK_SIZE} positions
 * each), as in vLLM's paged attention: a sequence holds a table of blocks that grows with it, so
 * memory follows the tokens in use, and sequences that share a prompt prefix can share its blocks.
 *
 * <p>Each layer's pool is one tensor [kvHeads, (blocks + 1) x BLOCK_SIZE, headDim]: a step writes
 * its new positions with one indexed put, and attention reads the batch's positions with one gather
 * ([batch, kvHeads, span, headDim]); a single sequence whose blocks are consecutive is read as a
 * view instead (no copy), each head's positions contiguous as attention reads them. The extra block at the end stays zero: a shorter sequence's
 * positions past its length read it (the mask hides them), so what a block's last owner left there,
 * even an inf or NaN from an FP16 overflow, is never read (0 x NaN would be NaN).
 *
 * <p>On the CPU in FP32 the same memory is also open to Java ({@link #pool}): the Java forward pass
 * ({@link RowAttention}) writes and reads the blocks in place through direct buffers over the tensors,
 * so either path can fill a cache the other reads. The memory stays PyTorch's (outside the Java heap,
 * which the launcher keeps small, and outside the JVM's direct-memory limit), counted as before.
 */
public final class KvCache implements AutoCloseable {
    /** Positions per block: small enough that a short sequence wastes little, large enough to keep tables short. */
    public static final int BLOCK_SIZE = 16;

    private final NDManager manager;
    private final NDArray[] keys;
    private final NDArray[] values;
    private final int blocks;
    private final FloatBuffer[] javaKeys; // the same memory as keys/values, or null where Java cannot read it
    private final FloatBuffer[] javaValues;
    private volatile boolean closed;

    public KvCache(NDManager parent, int layers, int blocks, int kvHeads, int headDim, DataType dtype) {
        if (blocks < 1) {
            throw new IllegalArgumentException("a KV cache needs at least one block, got " + blocks);
        }
        this.manager = parent.newSubManager();
        this.blocks = blocks;
        this.keys = new NDArray[layers];
        this.values = new NDArray[layers];
        Shape shape = new Shape(kvHeads, (long) (blocks + 1) * BLOCK_SIZE, headDim);
        for (int i = 0; i < layers; i++) {
            keys[i] = manager.zeros(shape, dtype);
            values[i] = manager.zeros(shape, dtype);
        }
        // a buffer is indexed by int: a layer's pool above 2 GiB stays PyTorch's alone
        boolean inJava = !manager.getDevice().isGpu() && dtype == DataType.FLOAT32
                && shape.size() * Float.BYTES <= Integer.MAX_VALUE;
        javaKeys = inJava ? views(keys) : null;
        javaValues = inJava ? views(values) : null;
    }

    /** Direct buffers over the tensors' own memory (DJL hands out a view for a contiguous CPU tensor, a copy otherwise). */
    private static FloatBuffer[] views(NDArray[] pools) {
        FloatBuffer[] views = new FloatBuffer[pools.length];
        for (int i = 0; i < pools.length; i++) {
            ByteBuffer bytes = pools[i].toByteBuffer(true);
            if (!bytes.isDirect() || bytes.capacity() != pools[i].size() * Float.BYTES) {
                return null;
            }
            views[i] = bytes.asFloatBuffer();
        }
        return views;
    }

    /** Bytes one position of one sequence takes across all layers. */
    public static long bytesPerToken(int layers, int kvHeads, int headDim, DataType dtype) {
        return 2L * layers * kvHeads * headDim * dtype.getNumOfBytes();
    }

    /** Blocks that hold {@code positions} positions. */
    public static int blocksFor(int positions) {
        return (positions + BLOCK_SIZE - 1) / BLOCK_SIZE;
    }

    /** A table of consecutive blocks {@code first, first + 1, ...} holding {@code positions} positions. */
    public static int[] consecutiveBlocks(int first, int positions) {
        int[] table = new int[blocksFor(positions)];
        for (int i = 0; i < table.length; i++) {
            table[i] = first + i;
        }
        return table;
    }

    /** Whether Java can read and write the pools in place ({@link #pool}): on the CPU, in FP32. */
    boolean inJava() {
        return javaKeys != null;
    }

    /**
     * Layer {@code layer}'s keys (which 0) or values (1) as Java reads them: the tensor's memory,
     * [kvHeads, (blocks + 1) x BLOCK_SIZE, headDim] row-major. Valid until {@link #close}.
     */
    FloatBuffer pool(int layer, int which) {
        if (closed || javaKeys == null) {
            throw new IllegalStateException(closed ? "KV cache used after it was closed" : "KV cache not readable from Java");
        }
        return which == 0 ? javaKeys[layer] : javaValues[layer];
    }

    /** Rows of a head's pool: every block's positions, the zero block's included. */
    int poolRows() {
        return (blocks + 1) * BLOCK_SIZE;
    }

    /** Blocks sequences can hold (the zero block is not one of them). */
    public int blocks() {
        return blocks;
    }

    /**
     * Where one step writes and reads in the pool, worked out once and shared by every layer:
     * {@code write} (the pool rows of the new positions, [batch x tokensPerSeq]) and {@code gather}
     * (the rows of every sequence's positions up to the span, [batch x span]; null when {@code view}
     * is the first row of one consecutive run that is read as a view).
     */
    record Positions(StepBatch batch, StepUploads.Ref write, StepUploads.Ref gather, int view) {

        NDArray read(NDArray pool, NDManager into) {
            int span = batch.span();
            if (gather == null) {
                return pool.get(into, new NDIndex().addAllDim().addSliceDim(view, view + span)).expandDims(0);
            }
            NDArray rows = pool.get(into, new NDIndex(":, {}", gather.get())); // [kvHeads, batch x span, headDim]
            Shape s = rows.getShape();
            return rows.reshape(s.get(0), batch.batchSize(), span, s.get(2)).transpose(1, 0, 2, 3);
        }
    }

    /** The step's positions; their index arrays go with the step's other inputs. */
    Positions positions(StepBatch batch, StepUploads uploads) {
        int t = batch.tokensPerSeq();
        int span = batch.span();
        int n = batch.batchSize();
        int[] write = new int[n * t];
        for (int b = 0; b < n; b++) {
            int[] table = batch.blockTables()[b];
            int start = batch.starts()[b];
            if (blocksFor(start + t) > table.length) {
                throw new IllegalStateException("sequence " + b + " writes position " + (start + t - 1) + " but holds "
                        + table.length + " blocks of " + BLOCK_SIZE);
            }
            for (int j = 0; j < t; j++) {
                write[b * t + j] = row(table, start + j);
            }
        }
        StepUploads.Ref writeRef = uploads.ints(write, new Shape(write.length));
        if (n == 1 && consecutive(batch.blockTables()[0], blocksFor(span))) {
            return new Positions(batch, writeRef, null, row(batch.blockTables()[0], 0));
        }
        int zero = blocks * BLOCK_SIZE;
        int[] gather = new int[n * span];
        for (int b = 0; b < n; b++) {
            int[] table = batch.blockTables()[b];
            int length = batch.starts()[b] + t;
            for (int p = 0; p < span; p++) {
                gather[b * span + p] = p < length ? row(table, p) : zero;
            }
        }
        return new Positions(batch, writeRef, uploads.ints(gather, new Shape(gather.length)), -1);
    }

    /** Pool row of {@code position} of a sequence holding {@code table}, its block checked against the pool. */
    int row(int[] table, int position) {
        int block = table[position / BLOCK_SIZE];
        if (block < 0 || block >= blocks) {
            throw new IllegalStateException("block " + block + " outside the pool of " + blocks);
        }
        return block * BLOCK_SIZE + position % BLOCK_SIZE;
    }

    private static boolean consecutive(int[] table, int count) {
        for (int i = 1; i < count; i++) {
            if (table[i] != table[0] + i) {
                return false;
            }
        }
        return true;
    }

    /** Stores this step's keys and values, each [batch, tokensPerSeq, kvHeads, headDim]. */
    void write(int layer, NDArray k, NDArray v, Positions at) {
        NDIndex rows = new NDIndex(":, {}", at.write().get());
        Shape shape = k.getShape();
        Shape flat = new Shape(shape.get(0) * shape.get(1), shape.get(2), shape.get(3));
        keys[layer].set(rows, k.reshape(flat).transpose(1, 0, 2));
        values[layer].set(rows, v.reshape(flat).transpose(1, 0, 2));
    }

    /** Keys (index 0) or values (1) of the batch's positions up to the step's span: [batch, kvHeads, span, headDim]. */
    NDArray read(int layer, int which, Positions at, NDManager into) {
        return at.read(which == 0 ? keys[layer] : values[layer], into);
    }

    @Override
    public void close() {
        closed = true;
        manager.close();
    }
}
