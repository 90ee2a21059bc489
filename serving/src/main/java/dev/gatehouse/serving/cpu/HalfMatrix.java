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
    /** Activation rows that share one pass over a weight row (each needs its own accumulator register). */
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

    public Format format() {
        return format;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Bytes of weight data it reads. */
    public long bytes() {
        return 2L * rows * cols;
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
            short[] row = new short[cols];
            int end = Math.min(rows, (task + 1) * ROWS_PER_TASK);
            for (int r = task * ROWS_PER_TASK; r < end; r++) {
                readRow(r, row);
                for (int t = 0; t < tokens; t += ROW_GROUP) {
                    dot(row, x, t, Math.min(ROW_GROUP, tokens - t), y, r);
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
        FloatVector[] acc = {a0, a1, a2, a3};
        for (int k = 0; k < n; k++) {
            float sum = acc[k].reduceLanes(VectorOperators.ADD);
            int xs = x0 + k * cols;
            for (int c = bound; c < cols; c++) {
                sum += x[xs + c] * toFloat(w[c]);
            }
            y[(t0 + k) * rows + r] = sum;
        }
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
