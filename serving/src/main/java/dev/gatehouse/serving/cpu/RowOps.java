package dev.gatehouse.serving.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The small per-token operations around {@link CpuMatrix} products, on float[] rows, so that a
 * layer's norm, activation and residual adds need no PyTorch call (each one a JNI round trip that
 * costs more than the arithmetic at one token).
 */
public final class RowOps {
    private static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_PREFERRED;

    private RowOps() {}

    /**
     * RMSNorm of each {@code dim}-wide row of {@code x} ({@code rows} of them) into {@code out}: x /
     * sqrt(mean(x^2) + eps) * weight, as transformers computes it in FP32 (the mean summed in double).
     */
    public static void rmsNorm(float[] x, int rows, int dim, float[] weight, double eps, float[] out) {
        for (int r = 0; r < rows; r++) {
            rmsNorm(x, r * dim, dim, weight, 0, eps, out, r * dim);
        }
    }

    /** RMSNorm of the one {@code dim}-wide row of {@code x} at {@code at} into {@code out} at {@code outAt}, by weight[weightAt...]. */
    public static void rmsNorm(float[] x, int at, int dim, float[] weight, int weightAt, double eps, float[] out, int outAt) {
        double squares = 0;
        for (int c = 0; c < dim; c++) {
            squares += (double) x[at + c] * x[at + c];
        }
        float inverse = (float) (1 / Math.sqrt(squares / dim + eps));
        for (int c = 0; c < dim; c++) {
            out[outAt + c] = x[at + c] * inverse * weight[weightAt + c];
        }
    }

    /**
     * SwiGLU's gate: for each row of {@code gateUp} ([rows, 2 * inter], gate then up, as the stacked
     * gate/up product gives them), {@code out[r][i] = silu(gate[i]) * up[i]} ([rows, inter]).
     */
    public static void siluTimesUp(float[] gateUp, int rows, int inter, float[] out) {
        int bound = inter - inter % FLOATS.length();
        for (int r = 0; r < rows; r++) {
            int gate = 2 * r * inter;
            int up = gate + inter;
            int to = r * inter;
            int i = 0;
            for (; i < bound; i += FLOATS.length()) {
                FloatVector g = FloatVector.fromArray(FLOATS, gateUp, gate + i);
                FloatVector sigmoid = g.neg().lanewise(VectorOperators.EXP).add(1f);
                g.div(sigmoid).mul(FloatVector.fromArray(FLOATS, gateUp, up + i)).intoArray(out, to + i);
            }
            for (; i < inter; i++) {
                float g = gateUp[gate + i];
                out[to + i] = (float) (g / (1 + Math.exp(-g))) * gateUp[up + i];
            }
        }
    }

    /** {@code into[at + i] += add[i]} for i below {@code n}. */
    public static void add(float[] into, int at, float[] add, int n) {
        int bound = n - n % FLOATS.length();
        int i = 0;
        for (; i < bound; i += FLOATS.length()) {
            FloatVector.fromArray(FLOATS, into, at + i).add(FloatVector.fromArray(FLOATS, add, i)).intoArray(into, at + i);
        }
        for (; i < n; i++) {
            into[at + i] += add[i];
        }
    }
}
