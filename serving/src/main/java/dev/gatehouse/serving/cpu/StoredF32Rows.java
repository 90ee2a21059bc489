package dev.gatehouse.serving.cpu;

import java.nio.ByteBuffer;

/**
 * Eight stored F32 weight rows dotted with one token's activations straight from where they are stored
 * (usually the memory-mapped safetensors file), for a decode step.
 *
 * <p>Two variants exist because of the JDK: on Java 21 (this class) the Vector API cannot load from a
 * mapped buffer without the preview MemorySegment API, so {@link #inPlace()} is false and
 * {@link CpuMatrix} copies the rows into a float[] first. The serving jar is multi-release: on Java 22+
 * the JVM loads {@code src/main/java22}'s variant of this class from {@code META-INF/versions/22}, which
 * loads vectors from a MemorySegment over the mapping (1.1-1.2x the bytes per CPU-second, see
 * docs/benchmarks.md). Run from a class folder (Maven's unit tests) it is this variant on every JDK;
 * failsafe runs the kernel tests again from the jar. (BF16 in place measured slower than its copy.)
 */
final class StoredF32Rows {
    StoredF32Rows(ByteBuffer part, int cols) {
    }

    /** Whether this JDK's variant reads the rows in place; when false, {@link #dot8x1} must not be called. */
    static boolean inPlace() {
        return false;
    }

    /** Rows {@code row..row+7} of the part dotted with {@code x[x0..x0+cols)} into {@code y[y0..y0+7]}. */
    void dot8x1(int row, float[] x, int x0, float[] y, int y0) {
        throw new UnsupportedOperationException("Java 21 reads stored rows through a copy (CpuMatrix.readRows)");
    }
}
