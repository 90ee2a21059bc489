package dev.gatehouse.serving.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.List;

/**
 * A [rows, cols] matrix of 16-bit floats (BF16 or F16) kept as stored, usually memory-mapped from a
 * safetensors file, and multiplied on the CPU with the Java Vector API: {@code y = x @ W^T}, each
 * weight row widened to FP32 in registers as it is used, never as a whole. It may be several
 * stored tensors stacked along the rows (q/k/v, gate/up), read in place without a copy.
 *
 * <p>The work is split by output rows across {@link CpuPool}; every weight row is read from memory
 * once per call, however many activation rows {@code x} has (a prefill's tokens reuse it from L1).
 */
public final class HalfMatrix {
    /** The two 16-bit float formats: BF16 is the top half of an FP32; F16 needs its exponent rebased. */
    public enum Format { BF16, F16 }

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    /** As many shorts as a float vector has lanes: one load widens into exactly one float vector. */
    private static final VectorSpecies<Short> SHORTS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(FLOATS.length() * Short.SIZE));
    private static final int LANES = FLOATS.length();
    /** Activation rows that share one pass over a weight row, and weight rows that share one over a token's. */
    private static final int ROW_GROUP = 4;
    /** Output rows per task: enough work to amortise a task, small enough for both cores to finish together. */
    private static final int ROWS_PER_TASK = 64;

    private final Format format;
    private final int rows;
    private final int cols;
    private final ShortBuffer[] parts;
    private final int[] partStarts; // first row of each part

    /**
     * @param parts little-endian 16-bit data, each a whole number of {@code cols}-wide rows, stacked in order
     */
    public HalfMatrix(Format format, int cols, List<ByteBuffer> parts) {
        this.format = format;
        this.cols = cols;
        this.parts = new ShortBuffer[parts.size()];
        this.partStarts = new int[parts.size() + 1];
        long total = 0;
        for (int i = 0; i < parts.size(); i++) {
            ByteBuffer bytes = parts.get(i);
            if (bytes.order() != ByteOrder.LITTLE_ENDIAN || bytes.remaining() % (2L * cols) != 0) {
                throw new IllegalArgumentException("part " + i + " is not little-endian rows of " + cols + " 16-bit values");
            }
            this.parts[i] = bytes.asShortBuffer();
            partStarts[i] = (int) total;
            total += bytes.remaining() / (2L * cols);
        }
        this.rows = Math.toIntExact(total);
        partStarts[parts.size()] = rows;
    }

    /** A matrix held in memory that this process owns (a transposed copy, say). */
    public static ByteBuffer allocate(long rows, long cols) {
        return ByteBuffer.allocateDirect(Math.toIntExact(rows * cols * 2)).order(ByteOrder.LITTLE_ENDIAN);
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /**
     * {@code y[t][r] = sum_c x[t][c] * W[r][c]} for {@code tokens} rows of {@code x} ([tokens, cols],
     * row-major); {@code y} is [tokens, rows].
     */
    public void multiply(float[] x, int tokens, float[] y) {
        if (x.length < (long) tokens * cols || y.length < (long) tokens * rows) {
            throw new IllegalArgumentException("x holds " + x.length + " and y " + y.length + " floats for "
                    + tokens + " rows of a " + rows + "x" + cols + " matrix");
        }
        int tasks = (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
        CpuPool.forEach(tasks, task -> {
            short[][] block = new short[ROW_GROUP][cols];
            int r = task * ROWS_PER_TASK;
            int end = Math.min(rows, r + ROWS_PER_TASK);
            // a prefill: four weight rows at a time against four tokens at a time, so that each vector
            // loaded from memory (weights, activations) feeds four multiply-adds
            for (; tokens >= ROW_GROUP && r + ROW_GROUP <= end; r += ROW_GROUP) {
                for (int k = 0; k < ROW_GROUP; k++) {
                    readRow(r + k, block[k]);
                }
                int t = 0;
                for (; t + ROW_GROUP <= tokens; t += ROW_GROUP) {
                    dot4x4(block, x, t, y, r);
                }
                for (int k = 0; t < tokens && k < ROW_GROUP; k++) {
                    dot(block[k], x, t, tokens - t, y, r + k);
                }
            }
            for (; r < end; r++) { // a decode (one to three tokens), or the rows left over
                readRow(r, block[0]);
                for (int t = 0; t < tokens; t += ROW_GROUP) {
                    dot(block[0], x, t, Math.min(ROW_GROUP, tokens - t), y, r);
                }
            }
        });
    }

    /** Row {@code r} widened to FP32 into {@code out} at {@code offset}: an embedding lookup. */
    public void widenRow(int r, float[] out, int offset) {
        short[] row = new short[cols];
        readRow(r, row);
        for (int c = 0; c < cols; c++) {
            out[offset + c] = toFloat(row[c]);
        }
    }

    private void readRow(int r, short[] row) {
        int part = 0;
        while (r >= partStarts[part + 1]) {
            part++;
        }
        parts[part].get((r - partStarts[part]) * cols, row); // a plain copy: the buffer is in native order
    }

    /** Up to four activation rows dotted with one weight row, sharing each widened weight vector. */
    private void dot(short[] w, float[] x, int t0, int n, float[] y, int r) {
        int bound = cols - cols % LANES;
        FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0;
        int x0 = t0 * cols;
        for (int c = 0; c < bound; c += LANES) {
            FloatVector wv = widen(ShortVector.fromArray(SHORTS, w, c));
            a0 = FloatVector.fromArray(FLOATS, x, x0 + c).fma(wv, a0);
            if (n > 1) {
                a1 = FloatVector.fromArray(FLOATS, x, x0 + cols + c).fma(wv, a1);
                if (n > 2) {
                    a2 = FloatVector.fromArray(FLOATS, x, x0 + 2 * cols + c).fma(wv, a2);
                    if (n > 3) {
                        a3 = FloatVector.fromArray(FLOATS, x, x0 + 3 * cols + c).fma(wv, a3);
                    }
                }
            }
        }
        // each accumulator goes out on its own: an array of vectors would box them, twenty times slower
        finish(a0, w, x, x0, y, t0 * rows + r);
        if (n > 1) {
            finish(a1, w, x, x0 + cols, y, (t0 + 1) * rows + r);
        }
        if (n > 2) {
            finish(a2, w, x, x0 + 2 * cols, y, (t0 + 2) * rows + r);
        }
        if (n > 3) {
            finish(a3, w, x, x0 + 3 * cols, y, (t0 + 3) * rows + r);
        }
    }

    /** Tokens t0..t0+3 against weight rows r0..r0+3: sixteen accumulators, each load used four times. */
    private void dot4x4(short[][] w, float[] x, int t0, float[] y, int r0) {
        int bound = cols - cols % LANES;
        short[] w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3];
        FloatVector a00 = FloatVector.zero(FLOATS), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int x0 = t0 * cols;
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        for (int c = 0; c < bound; c += LANES) {
            FloatVector v0 = widen(ShortVector.fromArray(SHORTS, w0, c));
            FloatVector v1 = widen(ShortVector.fromArray(SHORTS, w1, c));
            FloatVector v2 = widen(ShortVector.fromArray(SHORTS, w2, c));
            FloatVector v3 = widen(ShortVector.fromArray(SHORTS, w3, c));
            FloatVector u = FloatVector.fromArray(FLOATS, x, x0 + c);
            a00 = u.fma(v0, a00); a01 = u.fma(v1, a01); a02 = u.fma(v2, a02); a03 = u.fma(v3, a03);
            u = FloatVector.fromArray(FLOATS, x, x1 + c);
            a10 = u.fma(v0, a10); a11 = u.fma(v1, a11); a12 = u.fma(v2, a12); a13 = u.fma(v3, a13);
            u = FloatVector.fromArray(FLOATS, x, x2 + c);
            a20 = u.fma(v0, a20); a21 = u.fma(v1, a21); a22 = u.fma(v2, a22); a23 = u.fma(v3, a23);
            u = FloatVector.fromArray(FLOATS, x, x3 + c);
            a30 = u.fma(v0, a30); a31 = u.fma(v1, a31); a32 = u.fma(v2, a32); a33 = u.fma(v3, a33);
        }
        int y0 = t0 * rows + r0;
        finish(a00, w0, x, x0, y, y0);
        finish(a01, w1, x, x0, y, y0 + 1);
        finish(a02, w2, x, x0, y, y0 + 2);
        finish(a03, w3, x, x0, y, y0 + 3);
        finish(a10, w0, x, x1, y, y0 + rows);
        finish(a11, w1, x, x1, y, y0 + rows + 1);
        finish(a12, w2, x, x1, y, y0 + rows + 2);
        finish(a13, w3, x, x1, y, y0 + rows + 3);
        finish(a20, w0, x, x2, y, y0 + 2 * rows);
        finish(a21, w1, x, x2, y, y0 + 2 * rows + 1);
        finish(a22, w2, x, x2, y, y0 + 2 * rows + 2);
        finish(a23, w3, x, x2, y, y0 + 2 * rows + 3);
        finish(a30, w0, x, x3, y, y0 + 3 * rows);
        finish(a31, w1, x, x3, y, y0 + 3 * rows + 1);
        finish(a32, w2, x, x3, y, y0 + 3 * rows + 2);
        finish(a33, w3, x, x3, y, y0 + 3 * rows + 3);
    }

    /** y[at] = the accumulator's lanes summed, plus the columns past the last whole vector. */
    private void finish(FloatVector acc, short[] w, float[] x, int xs, float[] y, int at) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int c = cols - cols % LANES; c < cols; c++) {
            sum += x[xs + c] * toFloat(w[c]);
        }
        y[at] = sum;
    }

    /** 16 bits per lane to FP32, in registers. */
    private FloatVector widen(ShortVector halves) {
        IntVector bits = (IntVector) halves.convertShape(VectorOperators.S2I, INTS, 0);
        if (format == Format.BF16) {
            return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
        }
        // F16: the magnitude moved into FP32's fields is off by 2^112 in exponent, which one multiply fixes
        // (subnormal halves included); infinities and NaNs get FP32's all-ones exponent, then the sign goes back
        IntVector magnitude = bits.and(0x7fff);
        FloatVector scaled = magnitude.lanewise(VectorOperators.LSHL, 13).reinterpretAsFloats().mul(0x1p112f);
        IntVector out = scaled.reinterpretAsInts().or(bits.and(0x8000).lanewise(VectorOperators.LSHL, 16));
        VectorMask<Integer> special = magnitude.compare(VectorOperators.GE, 0x7c00);
        return out.blend(out.or(0x7f800000), special).reinterpretAsFloats();
    }

    private float toFloat(short half) {
        return format == Format.BF16 ? Float.intBitsToFloat((half & 0xffff) << 16) : Float.float16ToFloat(half);
    }
}
