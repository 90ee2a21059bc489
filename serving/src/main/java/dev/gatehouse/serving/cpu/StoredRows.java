package dev.gatehouse.serving.cpu;

import java.nio.ByteBuffer;

/**
 * Four stored F32 or BF16 weight rows dotted with one token's activations straight from where they are
 * stored (usually the memory-mapped safetensors file), for a decode step.
 *
 * <p>Two variants exist because of the JDK: on Java 21 (this class) the Vector API cannot load from a
 * mapped buffer without the preview MemorySegment API, so {@link #inPlace()} is false and
 * {@link CpuMatrix} copies the rows into an array first. The serving jar is multi-release: on Java 22+
 * the JVM loads {@code src/main/java22}'s variant of this class from {@code META-INF/versions/22}, which
 * loads vectors from a MemorySegment over the mapping, skipping the copy (about 1.3x the bytes per
 * CPU-second, see docs/benchmarks.md). Run from a class folder (Maven's unit tests) it is this variant
 * on every JDK; failsafe runs the kernel tests again from the jar.
 */
final class StoredRows {
    StoredRows(ByteBuffer part, int cols) {
    }

    /** Whether this JDK's variant reads rows in place; when false, the dot methods must not be called. */
    static boolean inPlace() {
        return false;
    }

    /** F32 rows {@code row..row+3} of the part dotted with {@code x[x0..x0+cols)} into {@code y[y0..y0+3]}. */
    void f32Dot4x1(int row, float[] x, int x0, float[] y, int y0) {
        throw new UnsupportedOperationException("Java 21 reads stored rows through a copy (CpuMatrix.readRows)");
    }

    /** {@link #f32Dot4x1} on BF16 rows, each widened in registers as it is used. */
    void bf16Dot4x1(int row, float[] x, int x0, float[] y, int y0) {
        throw new UnsupportedOperationException("Java 21 reads stored rows through a copy (CpuMatrix.readRows)");
    }
}
