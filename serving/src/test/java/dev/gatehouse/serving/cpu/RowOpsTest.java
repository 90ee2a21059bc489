package dev.gatehouse.serving.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The row operations against their formulas in float64, on widths that are no multiple of the vector length. */
class RowOpsTest {
    private final Random random = new Random(7);

    @Test
    void rmsNormScalesEachRowByItsRootMeanSquare() {
        int rows = 3;
        int dim = 37;
        float[] x = gaussians(rows * dim);
        float[] weight = gaussians(dim);
        float[] out = new float[x.length];
        RowOps.rmsNorm(x, rows, dim, weight, 1e-6, out);
        for (int r = 0; r < rows; r++) {
            double squares = 0;
            for (int c = 0; c < dim; c++) {
                squares += (double) x[r * dim + c] * x[r * dim + c];
            }
            double inverse = 1 / Math.sqrt(squares / dim + 1e-6);
            for (int c = 0; c < dim; c++) {
                assertEquals(x[r * dim + c] * inverse * weight[c], out[r * dim + c], 1e-5, "row " + r + " column " + c);
            }
        }
    }

    @Test
    void siluOfTheGateTimesTheUpHalf() {
        int rows = 2;
        int inter = 45;
        float[] gateUp = gaussians(rows * 2 * inter);
        gateUp[0] = -100; // silu(-100) is -100 * e^-100: zero, not NaN
        gateUp[1] = 100;
        float[] out = new float[rows * inter];
        RowOps.siluTimesUp(gateUp, rows, inter, out);
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < inter; i++) {
                double g = gateUp[2 * r * inter + i];
                double up = gateUp[2 * r * inter + inter + i];
                assertEquals(g / (1 + Math.exp(-g)) * up, out[r * inter + i], 1e-5 * Math.max(1, Math.abs(g * up)), "row " + r + " " + i);
            }
        }
    }

    @Test
    void addsInPlaceAtAnOffset() {
        float[] into = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
        float[] add = new float[17];
        java.util.Arrays.fill(add, 0.5f);
        RowOps.add(into, 2, add, 17);
        assertArrayEquals(new float[] {1, 2, 3.5f, 4.5f, 5.5f, 6.5f, 7.5f, 8.5f, 9.5f, 10.5f, 11.5f, 12.5f, 13.5f, 14.5f,
                15.5f, 16.5f, 17.5f, 18.5f, 19.5f, 20}, into);
    }

    private float[] gaussians(int n) {
        float[] values = new float[n];
        for (int i = 0; i < n; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
