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

    /**
     * Every F16 and BF16 bit pattern widens bit for bit as the scalar conversion, infinities included; a
     * NaN to a NaN (the scalar F16 conversion may set the quiet bit, a product will anyway).
     */
    @Test
    void widensEveryHalfBitForBit() {
        for (CpuMatrix.Format format : HALVES) {
            int cols = 65536 + 5; // every pattern, then a few past the last whole vector
            ByteBuffer data = CpuMatrix.allocate(format, 1, cols);
            for (int i = 0; i < cols; i++) {
                data.putShort(2 * i, (short) i);
            }
            float[] row = new float[cols + 3];
            new CpuMatrix(format, cols, List.of(data)).widenRow(0, row, 3);
            for (int i = 0; i < cols; i++) {
                float scalar = widen(format, (short) i);
                if (Float.isNaN(scalar)) {
                    assertTrue(Float.isNaN(row[3 + i]), format + " 0x" + Integer.toHexString(i & 0xffff));
                    continue;
                }
                int expected = Float.floatToRawIntBits(scalar);
                int actual = Float.floatToRawIntBits(row[3 + i]);
                assertEquals(expected, actual, format + " 0x" + Integer.toHexString(i & 0xffff)
                        + ": 0x" + Integer.toHexString(expected) + " widened to 0x" + Integer.toHexString(actual));
            }
        }
    }

    /**
     * Every finite F16 and BF16 bit pattern comes out of both products exactly: the prefill's (rows widened
     * once, shared by the tokens) and the decode's (widened in registers), one-hot activations picking them out.
     */
    @Test
    void multipliesEveryFiniteHalfExactly() {
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
            float[] one = new float[rows];
            for (int t = 0; t < cols; t++) {
                m.multiply(java.util.Arrays.copyOfRange(x, t * cols, (t + 1) * cols), 1, one);
                for (int r = 0; r < rows; r++) {
                    short half = values[r * cols + t];
                    String what = format + " 0x" + Integer.toHexString(half & 0xffff);
                    assertEquals(widen(format, half), y[t * rows + r], 0f, what);
                    assertEquals(widen(format, half), one[r], 0f, what + ", one token");
                }
            }
        }
    }

    /** Whole rows of infinities and NaNs, through the one-token product (eight rows widened in registers) and the prefill's. */
    @Test
    void infinitiesAndNaNsStaySo() {
        for (CpuMatrix.Format format : HALVES) {
            short inf = (short) (format == CpuMatrix.Format.F16 ? 0x7c00 : 0x7f80);
            short nan = (short) (format == CpuMatrix.Format.F16 ? 0x7e00 : 0x7fc0);
            short[] rowValues = {inf, (short) (inf | 0x8000), nan, (short) (nan | 0x8000)};
            int cols = 37;
            ByteBuffer data = CpuMatrix.allocate(format, 8, cols);
            for (int r = 0; r < 8; r++) {
                for (int c = 0; c < cols; c++) {
                    data.putShort(2 * (r * cols + c), rowValues[r % 4]);
                }
            }
            CpuMatrix m = new CpuMatrix(format, cols, List.of(data));
            for (int tokens : new int[] {1, 4}) {
                float[] ones = new float[tokens * cols];
                java.util.Arrays.fill(ones, 1);
                float[] y = new float[tokens * 8];
                m.multiply(ones, tokens, y);
                for (int r = 0; r < 8; r += 4) {
                    String what = format + " tokens " + tokens + " row " + r;
                    assertEquals(Float.POSITIVE_INFINITY, y[r], what);
                    assertEquals(Float.NEGATIVE_INFINITY, y[r + 1], what);
                    assertTrue(Float.isNaN(y[r + 2]), what);
                    assertTrue(Float.isNaN(y[r + 3]), what);
                }
            }
        }
    }

    /** A one-token F16 product is the F32 product of the widened matrix, to FP32 rounding, subnormal halves included. */
    @Test
    void f16ProductsMatchTheWidenedF32Matrix() {
        Random random = new Random(7);
        int rows = 61;
        int cols = 203;
        ByteBuffer halves = CpuMatrix.allocate(CpuMatrix.Format.F16, rows, cols);
        ByteBuffer floats = CpuMatrix.allocate(CpuMatrix.Format.F32, rows, cols);
        for (int i = 0; i < rows * cols; i++) {
            short half = i % 5 == 0 ? (short) random.nextInt(0x400) // a subnormal, either sign
                    : Float.floatToFloat16((float) random.nextGaussian() * 0.05f);
            half |= (short) (random.nextBoolean() ? 0x8000 : 0);
            halves.putShort(2 * i, half);
            floats.putFloat(4 * i, Float.float16ToFloat(half));
        }
        CpuMatrix f16 = new CpuMatrix(CpuMatrix.Format.F16, cols, List.of(halves));
        CpuMatrix f32 = new CpuMatrix(CpuMatrix.Format.F32, cols, List.of(floats));
        for (int tokens = 1; tokens <= 5; tokens++) {
            float[] x = new float[tokens * cols];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) random.nextGaussian();
            }
            float[] expected = new float[tokens * rows];
            float[] actual = new float[tokens * rows];
            f32.multiply(x, tokens, expected);
            f16.multiply(x, tokens, actual);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], actual[i], 1e-4, "tokens " + tokens + " at " + i);
            }
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
