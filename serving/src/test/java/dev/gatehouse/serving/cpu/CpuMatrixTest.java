package dev.gatehouse.serving.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The kernel against plain arithmetic: widening exact for every half, products within FP32 rounding of float64's. */
class CpuMatrixTest {
    private static final List<CpuMatrix.Format> HALVES = List.of(CpuMatrix.Format.BF16, CpuMatrix.Format.F16);

    /** Every finite F16 and BF16 bit pattern comes out of the vector widening exactly as the scalar conversion. */
    @Test
    void widensEveryFiniteHalfExactly() {
        for (CpuMatrix.Format format : HALVES) {
            int cols = 64;
            short[] values = finiteHalves(format);
            int rows = values.length / cols;
            ByteBuffer data = CpuMatrix.allocate(format, rows, cols);
            for (int i = 0; i < rows * cols; i++) {
                data.putShort(2 * i, values[i]);
            }
            CpuMatrix m = new CpuMatrix(format, cols, List.of(data));
            float[] x = new float[cols * cols]; // one-hot rows: y[t][r] = W[r][t]
            for (int t = 0; t < cols; t++) {
                x[t * cols + t] = 1;
            }
            float[] y = new float[cols * rows];
            m.multiply(x, cols, y);
            for (int r = 0; r < rows; r++) {
                for (int t = 0; t < cols; t++) {
                    short half = values[r * cols + t];
                    assertEquals(widen(format, half), y[t * rows + r], 0f, format + " 0x" + Integer.toHexString(half & 0xffff));
                }
            }
        }
    }

    @Test
    void infinitiesAndNaNsStaySo() {
        for (CpuMatrix.Format format : HALVES) {
            short inf = (short) (format == CpuMatrix.Format.F16 ? 0x7c00 : 0x7f80);
            short nan = (short) (format == CpuMatrix.Format.F16 ? 0x7e00 : 0x7fc0);
            ByteBuffer data = CpuMatrix.allocate(format, 3, 32);
            for (int c = 0; c < 32; c++) {
                data.putShort(2 * c, inf);
                data.putShort(2 * (32 + c), (short) (inf | 0x8000));
                data.putShort(2 * (64 + c), nan);
            }
            float[] y = new float[3];
            float[] ones = new float[32];
            java.util.Arrays.fill(ones, 1);
            new CpuMatrix(format, 32, List.of(data)).multiply(ones, 1, y);
            assertEquals(Float.POSITIVE_INFINITY, y[0], format.name());
            assertEquals(Float.NEGATIVE_INFINITY, y[1], format.name());
            assertTrue(Float.isNaN(y[2]), format.name());
        }
    }

    /**
     * Random stacked parts, a width that is no multiple of the vector length, enough rows for several
     * tasks with a group of four cut short at the end, and token counts around the kernel's group of
     * four, against a float64 product: within FP32 rounding of the sums.
     */
    @Test
    void multipliesStackedPartsLikeFloat64() {
        Random random = new Random(42);
        int cols = 100;
        int[] partRows = {700, 3, 330};
        int rows = 1033;
        for (CpuMatrix.Format format : CpuMatrix.Format.values()) {
            float[] w = new float[rows * cols]; // values the format holds exactly
            ByteBuffer[] parts = new ByteBuffer[partRows.length];
            for (int p = 0, r0 = 0; p < parts.length; r0 += partRows[p], p++) {
                parts[p] = CpuMatrix.allocate(format, partRows[p], cols);
                for (int i = 0; i < partRows[p] * cols; i++) {
                    float v = (float) random.nextGaussian();
                    switch (format) {
                        case F32 -> parts[p].putFloat(4 * i, v);
                        case BF16 -> parts[p].putShort(2 * i, (short) (Float.floatToIntBits(v) >>> 16));
                        case F16 -> parts[p].putShort(2 * i, Float.floatToFloat16(v));
                    }
                    w[r0 * cols + i] = switch (format) {
                        case F32 -> v;
                        case BF16, F16 -> widen(format, parts[p].getShort(2 * i));
                    };
                }
            }
            CpuMatrix m = new CpuMatrix(format, cols, List.of(parts));
            assertEquals(rows, m.rows());
            for (int tokens : new int[] {1, 3, 4, 5, 9}) {
                float[] x = new float[tokens * cols];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) random.nextGaussian();
                }
                float[] y = new float[tokens * rows];
                m.multiply(x, tokens, y);
                for (int t = 0; t < tokens; t++) {
                    for (int r = 0; r < rows; r++) {
                        double expected = 0;
                        for (int c = 0; c < cols; c++) {
                            expected += (double) x[t * cols + c] * w[r * cols + c];
                        }
                        assertEquals(expected, y[t * rows + r], 1e-4, format + " tokens " + tokens + " row " + r);
                    }
                }
            }
            float[] row = new float[cols];
            m.widenRow(750, row, 0);
            assertEquals(w[750 * cols + 7], row[7], 0f);
        }
    }

    @Test
    void refusesBuffersThatAreNotWholeRows() {
        ByteBuffer odd = CpuMatrix.allocate(CpuMatrix.Format.BF16, 1, 7);
        assertThrows(IllegalArgumentException.class, () -> new CpuMatrix(CpuMatrix.Format.BF16, 4, List.of(odd)));
        CpuMatrix m = new CpuMatrix(CpuMatrix.Format.BF16, 7, List.of(odd));
        assertThrows(IllegalArgumentException.class, () -> m.multiply(new float[6], 1, new float[1]));
    }

    private static short[] finiteHalves(CpuMatrix.Format format) {
        int exponentMask = format == CpuMatrix.Format.F16 ? 0x7c00 : 0x7f80;
        short[] all = new short[65536];
        int n = 0;
        for (int h = 0; h < 65536; h++) {
            if ((h & exponentMask) != exponentMask) {
                all[n++] = (short) h;
            }
        }
        return java.util.Arrays.copyOf(all, n - n % 64);
    }

    private static float widen(CpuMatrix.Format format, short half) {
        return format == CpuMatrix.Format.F16 ? Float.float16ToFloat(half) : Float.intBitsToFloat((half & 0xffff) << 16);
    }
}
