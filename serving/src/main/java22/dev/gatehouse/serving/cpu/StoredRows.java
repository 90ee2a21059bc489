package dev.gatehouse.serving.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The Java 22+ variant of {@code src/main/java}'s StoredRows (why two exist: see there), in the jar's
 * {@code META-INF/versions/22}: the vectors load from a MemorySegment over the stored part, with no copy
 * through an array. The arithmetic, and so every result bit, is that of CpuMatrix's dot4x1 and
 * dot4x1Bf16 on copied rows; only where the weight vectors load from differs.
 */
final class StoredRows {
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Short> SHORTS =
            VectorSpecies.of(short.class, VectorShape.forBitSize(FLOATS.length() * Short.SIZE));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);

    private final MemorySegment part;
    private final int cols;

    StoredRows(ByteBuffer part, int cols) {
        this.part = MemorySegment.ofBuffer(part);
        this.cols = cols;
    }

    static boolean inPlace() {
        return true;
    }

    void f32Dot4x1(int row, float[] x, int x0, float[] y, int y0) {
        int lanes = FLOATS.length();
        int bound = cols - cols % lanes;
        long stride = (long) cols * Float.BYTES;
        long w0 = row * stride;
        long w1 = w0 + stride;
        long w2 = w1 + stride;
        long w3 = w2 + stride;
        FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < bound; c += lanes) {
            FloatVector u = FloatVector.fromArray(FLOATS, x, x0 + c);
            long at = (long) c * Float.BYTES;
            a0 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w0 + at, LE), a0);
            a1 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w1 + at, LE), a1);
            a2 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w2 + at, LE), a2);
            a3 = u.fma(FloatVector.fromMemorySegment(FLOATS, part, w3 + at, LE), a3);
        }
        y[y0] = f32Finish(a0, bound, w0, x, x0);
        y[y0 + 1] = f32Finish(a1, bound, w1, x, x0);
        y[y0 + 2] = f32Finish(a2, bound, w2, x, x0);
        y[y0 + 3] = f32Finish(a3, bound, w3, x, x0);
    }

    void bf16Dot4x1(int row, float[] x, int x0, float[] y, int y0) {
        int lanes = FLOATS.length();
        int bound = cols - cols % lanes;
        long stride = (long) cols * Short.BYTES;
        long w0 = row * stride;
        long w1 = w0 + stride;
        long w2 = w1 + stride;
        long w3 = w2 + stride;
        FloatVector a0 = FloatVector.zero(FLOATS), a1 = a0, a2 = a0, a3 = a0;
        for (int c = 0; c < bound; c += lanes) {
            FloatVector u = FloatVector.fromArray(FLOATS, x, x0 + c);
            long at = (long) c * Short.BYTES;
            a0 = u.fma(bf16(w0 + at), a0);
            a1 = u.fma(bf16(w1 + at), a1);
            a2 = u.fma(bf16(w2 + at), a2);
            a3 = u.fma(bf16(w3 + at), a3);
        }
        y[y0] = bf16Finish(a0, bound, w0, x, x0);
        y[y0 + 1] = bf16Finish(a1, bound, w1, x, x0);
        y[y0 + 2] = bf16Finish(a2, bound, w2, x, x0);
        y[y0 + 3] = bf16Finish(a3, bound, w3, x, x0);
    }

    /** BF16 is the top half of an FP32: shift it into place. */
    private FloatVector bf16(long at) {
        IntVector bits = (IntVector) ShortVector.fromMemorySegment(SHORTS, part, at, LE).convertShape(VectorOperators.S2I, INTS, 0);
        return bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private float f32Finish(FloatVector acc, int bound, long w, float[] x, int x0) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int c = bound; c < cols; c++) {
            sum += x[x0 + c] * part.get(FLOAT, w + (long) c * Float.BYTES);
        }
        return sum;
    }

    private float bf16Finish(FloatVector acc, int bound, long w, float[] x, int x0) {
        float sum = acc.reduceLanes(VectorOperators.ADD);
        for (int c = bound; c < cols; c++) {
            sum += x[x0 + c] * Float.intBitsToFloat((part.get(SHORT, w + (long) c * Short.BYTES) & 0xffff) << 16);
        }
        return sum;
    }
}
