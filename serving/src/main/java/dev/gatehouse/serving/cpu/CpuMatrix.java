package dev.gatehouse.serving.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.List;

/**
 * A [rows, cols] matrix of F32, BF16 or F16 kept as stored, usually memory-mapped from a safetensors
 * file, multiplied on the CPU with the Java Vector API: {@code y = x @ W^T}. It may be several stored
 * tensors stacked along the rows (q/k/v, gate/up), read in place.
 *
 * <p>Four weight rows at a time are copied from the mapping into a small per-thread buffer (one bulk
 * copy: on Java 21 a vector cannot load from mapped memory without the preview MemorySegment API),
 * widened there to FP32 (F16 by the CPU's own conversion instruction), and dotted with every activation
 * row while they sit in L1: each weight byte crosses the memory bus once per call. A decode (under four
 * tokens) takes eight rows at a time and skips the FP32 copy: BF16 widens in registers, one shift; F32
 * on Java 22+ loads from the mapping ({@link StoredF32Rows}, a multi-release class). Eight rows give a
 * one-token decode eight independent multiply-add chains, so it is bound by memory bandwidth, not by
 * the latency of one chain. The rows are split into a few tasks per core, handed out by {@link CpuPool}.
 */
public final class CpuMatrix {
    /** The stored element types: BF16 is the top half of an FP32; F16 needs its exponent rebased. */
    public enum Format {
        F32(4), BF16(2), F16(2);

        private final int bytes;

        Format(int bytes) {
            this.bytes = bytes;
        }

        public int bytes() {
            return bytes;
        }
    }

    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    /** As many shorts as a float vector has lanes: one load widens into exactly one float vector. */
    private static final VectorSpecies<Short> SHORTS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(FLOATS.length() * Short.SIZE));
    private static final int LANES = FLOATS.length();
    /** Weight rows (and activation rows) that share one pass of the copied path: sixteen accumulators at most. */
    private static final int GROUP = 4;
    /**
     * Weight rows a decode (under four tokens) takes at once from where they are stored: eight chains hide
     * a row's short length better than four (576-wide SmolLM2 rows: 1.06-1.08x an F32 token), sixteen spill.
     */
    private static final int DECODE_ROWS = 8;
    /** Tasks per core: enough that a core slowed by another process hands work to the other. */
    private static final int TASKS_PER_CORE = 4;
    /** Fewest weight bytes worth a task of their own: below this, waking a thread costs more than it saves. */
    private static final long MIN_TASK_BYTES = 64 * 1024;
    private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

    private final Format format;
    private final int rows;
    private final int cols;
    private final FloatBuffer[] floatParts; // F32
    private final ShortBuffer[] halfParts; // BF16, F16
    private final StoredF32Rows[] storedParts; // F32 decode on Java 22+, read in place
    private final int[] partStarts; // first row of each part

    /**
     * @param parts little-endian data of {@code format}, each a whole number of {@code cols}-wide rows, stacked in order
     */
    public CpuMatrix(Format format, int cols, List<ByteBuffer> parts) {
        this.format = format;
        this.cols = cols;
        this.floatParts = new FloatBuffer[parts.size()];
        this.halfParts = new ShortBuffer[parts.size()];
        this.storedParts = new StoredF32Rows[parts.size()];
        this.partStarts = new int[parts.size() + 1];
        long rowBytes = (long) format.bytes * cols;
        long total = 0;
        for (int i = 0; i < parts.size(); i++) {
            ByteBuffer bytes = parts.get(i);
            if (bytes.order() != ByteOrder.LITTLE_ENDIAN || bytes.remaining() % rowBytes != 0) {
                throw new IllegalArgumentException("part " + i + " is not little-endian rows of " + cols + " " + format + " values");
            }
            floatParts[i] = bytes.asFloatBuffer();
            halfParts[i] = bytes.asShortBuffer();
            storedParts[i] = new StoredF32Rows(bytes, cols);
            partStarts[i] = (int) total;
            total += bytes.remaining() / rowBytes;
        }
        this.rows = Math.toIntExact(total);
        partStarts[parts.size()] = rows;
    }

    /** A matrix held in memory that this process owns (a transposed copy, say). */
    public static ByteBuffer allocate(Format format, long rows, long cols) {
        return ByteBuffer.allocateDirect(Math.toIntExact(rows * cols * format.bytes)).order(ByteOrder.LITTLE_ENDIAN);
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
        long bytes = (long) rows * cols * format.bytes;
        int tasks = (int) Math.max(1, Math.min(CpuPool.cores() * TASKS_PER_CORE, bytes / MIN_TASK_BYTES));
        int blocks = (rows + DECODE_ROWS - 1) / DECODE_ROWS; // tasks split at these, so no decode group straddles two
        boolean decode = tokens < GROUP;
        CpuPool.forEach(tasks, task -> {
            Scratch scratch = SCRATCH.get();
            float[] w = scratch.weights(GROUP * cols);
            short[] halves = scratch.halves(DECODE_ROWS * cols);
            int end = Math.min(rows, (int) ((long) blocks * (task + 1) / tasks) * DECODE_ROWS);
            int r = (int) ((long) blocks * task / tasks) * DECODE_ROWS;
            while (r < end) {
                if (decode && end - r >= DECODE_ROWS && decodeUncopied(r, x, tokens, y, halves)) {
                    r += DECODE_ROWS;
                    continue;
                }
                int n = Math.min(GROUP, end - r);
                multiplyCopied(r, n, x, tokens, y, w, halves);
                r += n;
            }
        });
    }

    /**
     * Rows r..r+7 against each of a decode's tokens with no FP32 copy of the rows: F32 from where they
     * are stored (Java 22+, and only if they lie in one part), BF16 widened in registers as used, the
     * shorts read once from L1. False when neither applies: the caller copies them.
     */
    private boolean decodeUncopied(int r, float[] x, int tokens, float[] y, short[] halves) {
        if (format == Format.BF16) {
            readRows(r, DECODE_ROWS, null, 0, halves);
            for (int t = 0; t < tokens; t++) {
                dot8x1Bf16(halves, x, t, y, r);
            }
            return true;
        }
        if (format != Format.F32 || !StoredF32Rows.inPlace()) {
            return false;
        }
        int part = 0;
        while (r >= partStarts[part + 1]) {
            part++;
        }
        if (r + DECODE_ROWS > partStarts[part + 1]) {
            return false;
        }
        for (int t = 0; t < tokens; t++) {
            storedParts[part].dot8x1(r - partStarts[part], x, t * cols, y, t * rows + r);
        }
        return true;
    }

    /** Rows r..r+n-1 (n at most four) copied as FP32 into {@code w}, then against every token. */
    private void multiplyCopied(int r, int n, float[] x, int tokens, float[] y, float[] w, short[] halves) {
        readRows(r, n, w, 0, halves);
        if (n < GROUP) { // the last rows of the matrix, one at a time
            for (int k = 0; k < n; k++) {
                for (int t = 0; t < tokens; t++) {
                    y[t * rows + r + k] = dot(w, k * cols, x, t * cols);
                }
            }
            return;
        }
        int t = 0;
        for (; t + GROUP <= tokens; t += GROUP) {
            dot4x4(w, x, t, y, r);
        }
        for (; t < tokens; t++) {
            dot4x1(w, x, t, y, r);
        }
    }

    /** Row {@code r} widened to FP32 into {@code out} at {@code offset}: an embedding lookup. */
    public void widenRow(int r, float[] out, int offset) {
        readRows(r, 1, out, offset, new short[cols]);
    }

    /**
     * Rows r..r+n-1 as FP32 into {@code out} at {@code at}: one bulk copy out of the mapping per stored
     * part they span (many loads in flight, as a memcpy has), widened in L1. With {@code out} null,
     * 16-bit rows are only copied into {@code halves}.
     */
    private void readRows(int r, int n, float[] out, int at, short[] halves) {
        int part = 0;
        while (r >= partStarts[part + 1]) {
            part++;
        }
        int length = n * cols;
        for (int done = 0; done < length; part++) { // done: elements copied so far
            int take = Math.min(length - done, (partStarts[part + 1] - r) * cols);
            int index = (r - partStarts[part]) * cols; // in elements
            switch (format) {
                case F32 -> floatParts[part].get(index, out, at + done, take); // a plain copy: the buffer is in native order
                case BF16, F16 -> halfParts[part].get(index, halves, done, take);
            }
            r += take / cols;
            done += take;
        }
        // widened after the copies, in one loop: C2 vectorizes F16's conversion loop reliably only where it is not nested
        if (out != null && format == Format.BF16) {
            widenBf16(halves, length, out, at);
        } else if (out != null && format == Format.F16) {
            widenF16(halves, length, out, at);
        }
    }

    // The widening loops are separate and small so that the JIT inlines every vector operation: a vector
    // passed through a call it does not inline is boxed on the heap, twenty times slower.

    /** BF16 is the top half of an FP32: shift it into place. */
    private static void widenBf16(short[] halves, int n, float[] out, int at) {
        int c = 0;
        for (; c < n - n % LANES; c += LANES) {
            IntVector bits = (IntVector) ShortVector.fromArray(SHORTS, halves, c).convertShape(VectorOperators.S2I, INTS, 0);
            bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(out, at + c);
        }
        for (; c < n; c++) {
            out[at + c] = Float.intBitsToFloat((halves[c] & 0xffff) << 16);
        }
    }

    /**
     * F16 through the JDK's own conversion, which C2 compiles to the CPU's (x86 F16C / AVX-512 FP16,
     * AArch64 FCVTL) and vectorizes in a plain loop like this one: exact for every half by definition, and
     * faster than the same in Vector API lane ops, which need a multiply by 2^112 (slowed by microcode
     * assists on subnormal halves, which real weights have) and masked fix-ups for infinities and NaNs.
     */
    private static void widenF16(short[] halves, int n, float[] out, int at) {
        for (int c = 0; c < n; c++) {
            out[at + c] = Float.float16ToFloat(halves[c]);
        }
    }

    /** One weight row (at {@code w0} in {@code w}) dotted with one activation row (at {@code x0}). */
    private float dot(float[] w, int w0, float[] x, int x0) {
        int bound = cols - cols % LANES;
        FloatVector acc = FloatVector.zero(FLOATS);
        for (int c = 0; c < bound; c += LANES) {
            acc = FloatVector.fromArray(FLOATS, x, x0 + c).fma(FloatVector.fromArray(FLOATS, w, w0 + c), acc);
        }
        return finish(acc, w, w0, x, x0);
    }

    /** Four weight rows against token t: four independent chains, each activation load used four times. */
    private void dot4x1(float[] w, float[] x, int t, float[] y, int r0) {
        int bound = cols - cols % LANES;
        int w1 = cols;
        int w2 = 2 * cols;
        int w3 = 3 * cols;
        int x0 = t * cols;
        FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < bound; c += LANES) {
            FloatVector u = FloatVector.fromArray(FLOATS, x, x0 + c);
            a0 = u.fma(FloatVector.fromArray(FLOATS, w, c), a0);
            a1 = u.fma(FloatVector.fromArray(FLOATS, w, w1 + c), a1);
            a2 = u.fma(FloatVector.fromArray(FLOATS, w, w2 + c), a2);
            a3 = u.fma(FloatVector.fromArray(FLOATS, w, w3 + c), a3);
        }
        // each accumulator goes out on its own: an array of vectors would box them, twenty times slower
        int y0 = t * rows + r0;
        y[y0] = finish(a0, w, 0, x, x0);
        y[y0 + 1] = finish(a1, w, w1, x, x0);
        y[y0 + 2] = finish(a2, w, w2, x, x0);
        y[y0 + 3] = finish(a3, w, w3, x, x0);
    }

    /** Eight BF16 rows ({@code w}, as stored) against token t, each widened in registers as it is used: eight independent chains. */
    private void dot8x1Bf16(short[] w, float[] x, int t, float[] y, int r0) {
        int bound = cols - cols % LANES;
        int x0 = t * cols;
        int w1 = 1 * cols;
        int w2 = 2 * cols;
        int w3 = 3 * cols;
        int w4 = 4 * cols;
        int w5 = 5 * cols;
        int w6 = 6 * cols;
        int w7 = 7 * cols;
        FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (int c = 0; c < bound; c += LANES) {
            FloatVector u = FloatVector.fromArray(FLOATS, x, x0 + c);
            a0 = u.fma(bf16(w, c), a0);
            a1 = u.fma(bf16(w, w1 + c), a1);
            a2 = u.fma(bf16(w, w2 + c), a2);
            a3 = u.fma(bf16(w, w3 + c), a3);
            a4 = u.fma(bf16(w, w4 + c), a4);
            a5 = u.fma(bf16(w, w5 + c), a5);
            a6 = u.fma(bf16(w, w6 + c), a6);
            a7 = u.fma(bf16(w, w7 + c), a7);
        }
        int y0 = t * rows + r0;
        y[y0] = finishBf16(a0, w, 0, x, x0);
        y[y0 + 1] = finishBf16(a1, w, w1, x, x0);
        y[y0 + 2] = finishBf16(a2, w, w2, x, x0);
        y[y0 + 3] = finishBf16(a3, w, w3, x, x0);
        y[y0 + 4] = finishBf16(a4, w, w4, x, x0);
        y[y0 + 5] = finishBf16(a5, w, w5, x, x0);
        y[y0 + 6] = finishBf16(a6, w, w6, x, x0);
        y[y0 + 7] = finishBf16(a7, w, w7, x, x0);
    }

    private static FloatVector bf16(short[] w, int at) {
        IntVector bits = (IntVector) ShortVector.fromArray(SHORTS, w, at).convertShape(VectorOperators.S2I, INTS, 0);
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private float finishBf16(FloatVector acc, short[] w, int w0, float[] x, int x0) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int c = cols - cols % LANES; c < cols; c++) {
            sum += x[x0 + c] * Float.intBitsToFloat((w[w0 + c] & 0xffff) << 16);
        }
        return sum;
    }

    /** Tokens t0..t0+3 against the four weight rows: sixteen accumulators, each load used four times. */
    private void dot4x4(float[] w, float[] x, int t0, float[] y, int r0) {
        int bound = cols - cols % LANES;
        int w1 = cols;
        int w2 = 2 * cols;
        int w3 = 3 * cols;
        FloatVector a00 = FloatVector.zero(FLOATS), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int x0 = t0 * cols;
        int x1 = x0 + cols;
        int x2 = x1 + cols;
        int x3 = x2 + cols;
        for (int c = 0; c < bound; c += LANES) {
            FloatVector v0 = FloatVector.fromArray(FLOATS, w, c);
            FloatVector v1 = FloatVector.fromArray(FLOATS, w, w1 + c);
            FloatVector v2 = FloatVector.fromArray(FLOATS, w, w2 + c);
            FloatVector v3 = FloatVector.fromArray(FLOATS, w, w3 + c);
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
        y[y0] = finish(a00, w, 0, x, x0);
        y[y0 + 1] = finish(a01, w, w1, x, x0);
        y[y0 + 2] = finish(a02, w, w2, x, x0);
        y[y0 + 3] = finish(a03, w, w3, x, x0);
        y[y0 + rows] = finish(a10, w, 0, x, x1);
        y[y0 + rows + 1] = finish(a11, w, w1, x, x1);
        y[y0 + rows + 2] = finish(a12, w, w2, x, x1);
        y[y0 + rows + 3] = finish(a13, w, w3, x, x1);
        y[y0 + 2 * rows] = finish(a20, w, 0, x, x2);
        y[y0 + 2 * rows + 1] = finish(a21, w, w1, x, x2);
        y[y0 + 2 * rows + 2] = finish(a22, w, w2, x, x2);
        y[y0 + 2 * rows + 3] = finish(a23, w, w3, x, x2);
        y[y0 + 3 * rows] = finish(a30, w, 0, x, x3);
        y[y0 + 3 * rows + 1] = finish(a31, w, w1, x, x3);
        y[y0 + 3 * rows + 2] = finish(a32, w, w2, x, x3);
        y[y0 + 3 * rows + 3] = finish(a33, w, w3, x, x3);
    }

    /** The accumulator's lanes summed, plus the columns past the last whole vector. */
    private float finish(FloatVector acc, float[] w, int w0, float[] x, int x0) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int c = cols - cols % LANES; c < cols; c++) {
            sum += x[x0 + c] * w[w0 + c];
        }
        return sum;
    }

    /** A thread's buffers for the rows in flight, grown to the widest matrix it has multiplied. */
    private static final class Scratch {
        private float[] weights = new float[0];
        private short[] halves = new short[0];

        float[] weights(int length) {
            if (weights.length < length) {
                weights = new float[length];
            }
            return weights;
        }

        short[] halves(int length) {
            if (halves.length < length) {
                halves = new short[length];
            }
            return halves;
        }
    }
}
