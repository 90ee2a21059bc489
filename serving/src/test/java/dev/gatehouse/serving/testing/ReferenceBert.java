package dev.gatehouse.serving.testing;

import java.util.Map;

/**
 * BERT's encoder in float64 with plain loops, straight from the transformers formulas, for one
 * unpadded sequence. {@code jlamaMode} reproduces Jlama 0.8.4's two departures from BertModel:
 * causal attention (each token reads the KV cache only up to itself) and an MLP residual that
 * skips the first LayerNorm ({@code LN2(s + mlp(LN1(s)))} with {@code s = x + attn}, where BERT
 * adds {@code LN1(s)}: its BertModel passes the norms to a TransformerBlock constructor that
 * files them as the pre-MLP and final norms). In
 * that mode this reference is checked against Jlama; in the real mode it checks Gatehouse.
 */
public final class ReferenceBert {
    private final BertTestFolder f;
    private final Map<String, float[]> w;
    private final boolean tanhGelu;

    public ReferenceBert(BertTestFolder folder) {
        this.f = folder;
        this.w = folder.tensors();
        this.tanhGelu = !folder.hiddenAct().equals("gelu");
    }

    /** Last hidden states, [tokens][hidden]. */
    public double[][] hiddenStates(int[] ids, boolean jlamaMode) {
        boolean causal = jlamaMode;
        int t = ids.length, h = f.hiddenSize(), heads = f.numHeads(), hd = h / heads;
        double[][] x = new double[t][h];
        float[] word = w.get("embeddings.word_embeddings.weight"), pos = w.get("embeddings.position_embeddings.weight"),
            type = w.get("embeddings.token_type_embeddings.weight");
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < h; j++) x[i][j] = word[ids[i] * h + j] + pos[i * h + j] + type[j];
            x[i] = layerNorm(x[i], "embeddings.LayerNorm");
        }
        for (int l = 0; l < f.numLayers(); l++) {
            String p = "encoder.layer." + l + ".";
            double[][] q = new double[t][], k = new double[t][], v = new double[t][];
            for (int i = 0; i < t; i++) {
                q[i] = linear(x[i], p + "attention.self.query");
                k[i] = linear(x[i], p + "attention.self.key");
                v[i] = linear(x[i], p + "attention.self.value");
            }
            double[][] next = new double[t][];
            for (int i = 0; i < t; i++) {
                double[] ctx = new double[h];
                int last = causal ? i : t - 1;
                for (int head = 0; head < heads; head++) {
                    double[] s = new double[last + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= last; j++) {
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += q[i][head * hd + d] * k[j][head * hd + d];
                        s[j] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= last; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int j = 0; j <= last; j++) {
                        for (int d = 0; d < hd; d++) ctx[head * hd + d] += s[j] / sum * v[j][head * hd + d];
                    }
                }
                double[] attn = linear(ctx, p + "attention.output.dense");
                double[] sum = add(x[i], attn);
                double[] a = layerNorm(sum, p + "attention.output.LayerNorm");
                double[] up = linear(a, p + "intermediate.dense");
                for (int j = 0; j < up.length; j++) up[j] = gelu(up[j]);
                double[] down = linear(up, p + "output.dense");
                next[i] = layerNorm(add(jlamaMode ? sum : a, down), p + "output.LayerNorm");
            }
            x = next;
        }
        return x;
    }

    /** sentence-transformers pooling ("mean", "cls", "max") and optional L2 normalisation. */
    public static double[] pool(double[][] states, String mode, boolean normalize) {
        int h = states[0].length;
        double[] out = new double[h];
        switch (mode) {
            case "cls" -> System.arraycopy(states[0], 0, out, 0, h);
            case "mean" -> {
                for (double[] s : states) for (int j = 0; j < h; j++) out[j] += s[j] / states.length;
            }
            case "max" -> {
                java.util.Arrays.fill(out, Double.NEGATIVE_INFINITY);
                for (double[] s : states) for (int j = 0; j < h; j++) out[j] = Math.max(out[j], s[j]);
            }
            default -> throw new IllegalArgumentException(mode);
        }
        if (normalize) {
            double n = 0;
            for (double d : out) n += d * d;
            n = Math.sqrt(n);
            for (int j = 0; j < h; j++) out[j] /= n;
        }
        return out;
    }

    private double gelu(double x) {
        if (tanhGelu) return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
        return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
    }

    /** erf to about 1e-15 (series for small x, continued fraction complement otherwise). */
    static double erf(double x) {
        double ax = Math.abs(x);
        double r;
        if (ax < 3) {
            double term = ax, sum = ax;
            for (int n = 1; n < 200; n++) {
                term *= -ax * ax / n;
                sum += term / (2 * n + 1);
                if (Math.abs(term) < 1e-17) break;
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            double cf = 0; // erfc continued fraction
            for (int n = 60; n >= 1; n--) cf = n / 2.0 / (ax + cf);
            r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + cf);
        }
        return x < 0 ? -r : r;
    }

    private double[] linear(double[] x, String name) {
        float[] wt = w.get(name + ".weight"), b = w.get(name + ".bias");
        int out = b.length, in = x.length;
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = b[o];
            for (int i = 0; i < in; i++) s += wt[o * in + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    private double[] layerNorm(double[] x, String name) {
        float[] g = w.get(name + ".weight"), b = w.get(name + ".bias");
        double mean = 0, var = 0;
        for (double d : x) mean += d / x.length;
        for (double d : x) var += (d - mean) * (d - mean) / x.length;
        double inv = 1 / Math.sqrt(var + 1e-12);
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) y[i] = (x[i] - mean) * inv * g[i] + b[i];
        return y;
    }

    private static double[] add(double[] a, double[] b) {
        double[] y = new double[a.length];
        for (int i = 0; i < a.length; i++) y[i] = a[i] + b[i];
        return y;
    }
}
