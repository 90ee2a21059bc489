package dev.gatehouse.serving.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A deliberately naive float64 forward pass written from the published formulas, as Hugging Face
 * transformers implements them, reading only {@code config.json} and the safetensors files of a
 * folder (any storage dtype; values are widened exactly). It serves as an independent check of
 * Jlama and as the oracle for what Jlama 0.8.4 cannot run (Qwen3, llama3 {@code rope_scaling},
 * BF16 folders, custom head_dim on llama).
 *
 * <ul>
 *   <li>llama / mistral / qwen2 / qwen3: RMSNorm {@code w * x / sqrt(mean(x^2) + eps)}; rotate-half
 *       RoPE as HF's {@code LlamaRotaryEmbedding}/{@code apply_rotary_pos_emb} (pairs {@code (i, i + d/2)},
 *       {@code inv_freq_i = theta^(-2i/d)}, optionally the llama3 frequency rescaling); grouped-query
 *       attention (query head h reads kv head {@code h / (heads / kv_heads)}), scale {@code 1/sqrt(head_dim)};
 *       SwiGLU MLP {@code down(silu(gate(x)) * up(x))}; qwen2 q/k/v biases; llama / qwen3 q/k/v/o biases
 *       with {@code attention_bias}; qwen3 per-head q/k RMSNorm before RoPE; lm_head or tied embeddings;
 *       sliding-window attention (a query at position p sees keys p - window < j <= p) in the layers
 *       transformers' config classes window: mistral every layer ({@code sliding_window}, 4096 when
 *       absent), qwen2 / qwen3 only with {@code use_sliding_window}, in the layers listed as
 *       {@code sliding_attention} in {@code layer_types} or else those from {@code max_window_layers} on.
 *   <li>gpt2: token + learned position embeddings, LayerNorm (biased variance), Conv1D ({@code x @ W + b}
 *       with W [in, out]), fused c_attn split into q|k|v, gelu_new (tanh approximation), tied wte output.
 * </ul>
 */
public final class ReferenceModel implements TokenOracle {

    private final String type;
    private final boolean gpt2;
    private final int hidden, inter, layers, heads, kvHeads, headDim, vocab, maxPositions;
    private final double eps;
    private final double[] invFreq;
    private final Map<String, SafetensorsReader.Entry> w;
    private final String prefix;
    private final float[] lmHead;
    private final boolean qkvBias, outBias;
    /** Per layer: the window of keys a query sees, or 0 for the whole sequence. */
    private final int[] window;

    private ReferenceModel(Path dir) throws IOException {
        JsonNode c = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        type = c.get("model_type").textValue();
        w = SafetensorsReader.readFolder(dir);
        switch (type) {
            case "gpt2" -> {
                gpt2 = true;
                hidden = c.get("n_embd").intValue();
                heads = c.get("n_head").intValue();
                kvHeads = heads;
                headDim = hidden / heads;
                layers = c.get("n_layer").intValue();
                inter = c.path("n_inner").isNumber() ? c.get("n_inner").intValue() : 4 * hidden;
                eps = c.get("layer_norm_epsilon").doubleValue();
                maxPositions = c.get("n_positions").intValue();
                String act = c.path("activation_function").asText("gelu_new");
                if (!act.equals("gelu_new") && !act.equals("gelu_pytorch_tanh")) throw new IllegalArgumentException("unsupported activation " + act);
                qkvBias = outBias = true; // Conv1D always has a bias (read in gpt2Step)
                window = new int[layers];
                invFreq = null;
                prefix = w.containsKey("transformer.wte.weight") ? "transformer." : "";
                lmHead = w.containsKey("lm_head.weight") && !c.path("tie_word_embeddings").asBoolean(true)
                    ? t("lm_head.weight") : t(prefix + "wte.weight");
            }
            case "llama", "mistral", "qwen2", "qwen3" -> {
                gpt2 = false;
                prefix = "";
                hidden = c.get("hidden_size").intValue();
                inter = c.get("intermediate_size").intValue();
                layers = c.get("num_hidden_layers").intValue();
                heads = c.get("num_attention_heads").intValue();
                kvHeads = c.path("num_key_value_heads").asInt(heads);
                boolean honorsHeadDim = !type.equals("qwen2");
                headDim = honorsHeadDim && c.path("head_dim").isNumber() ? c.get("head_dim").intValue() : hidden / heads;
                eps = c.get("rms_norm_eps").doubleValue();
                maxPositions = c.get("max_position_embeddings").intValue();
                if (!c.path("hidden_act").asText("silu").equals("silu")) throw new IllegalArgumentException("unsupported hidden_act");
                boolean attentionBias = (type.equals("llama") || type.equals("qwen3")) && c.path("attention_bias").asBoolean(false);
                qkvBias = type.equals("qwen2") || attentionBias;
                outBias = attentionBias;
                window = windows(type, c, layers);
                double theta = c.path("rope_theta").asDouble(10000.0);
                invFreq = new double[headDim / 2];
                for (int i = 0; i < invFreq.length; i++) invFreq[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
                JsonNode rs = c.path("rope_scaling");
                if (rs.isObject()) {
                    String rt = rs.path("rope_type").asText(rs.path("type").asText());
                    if (!rt.equals("llama3")) throw new IllegalArgumentException("unsupported rope_type " + rt);
                    applyLlama3(invFreq, rs.get("factor").doubleValue(), rs.get("low_freq_factor").doubleValue(),
                        rs.get("high_freq_factor").doubleValue(), rs.get("original_max_position_embeddings").doubleValue());
                }
                boolean tied = c.path("tie_word_embeddings").asBoolean(false);
                lmHead = tied ? t("model.embed_tokens.weight") : t("lm_head.weight");
            }
            default -> throw new IllegalArgumentException("unsupported model_type " + type);
        }
        vocab = c.get("vocab_size").intValue();
    }

    /** transformers' reading of the sliding window, layer by layer (0 = none). */
    private static int[] windows(String type, JsonNode c, int layers) {
        int[] w = new int[layers];
        int size;
        if (type.equals("mistral")) {
            size = c.has("sliding_window") ? c.get("sliding_window").asInt(0) : 4096; // null: no window
        } else if (type.equals("qwen2") || type.equals("qwen3")) {
            size = c.path("use_sliding_window").asBoolean(false) ? (c.has("sliding_window") ? c.get("sliding_window").asInt(0) : 4096) : 0;
        } else {
            size = 0;
        }
        for (int l = 0; l < layers; l++) {
            boolean windowed = c.path("layer_types").isArray() ? c.get("layer_types").get(l).asText().equals("sliding_attention")
                : type.equals("mistral") || l >= c.path("max_window_layers").asInt(28);
            w[l] = windowed ? size : 0;
        }
        return w;
    }

    /** Loads config.json and the weights of {@code dir}. */
    public static ReferenceModel load(Path dir) {
        try {
            return new ReferenceModel(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * HF's {@code _compute_llama3_parameters}: wavelengths longer than {@code original/low} are divided
     * by {@code factor}, shorter than {@code original/high} kept, and those in between interpolated.
     */
    static void applyLlama3(double[] invFreq, double factor, double low, double high, double originalMax) {
        double lowWavelen = originalMax / low;
        double highWavelen = originalMax / high;
        for (int i = 0; i < invFreq.length; i++) {
            double f = invFreq[i];
            double wavelen = 2 * Math.PI / f;
            double scaled = wavelen > lowWavelen ? f / factor : f;
            if (!(wavelen < highWavelen) && !(wavelen > lowWavelen)) {
                double smooth = (originalMax / wavelen - low) / (high - low);
                scaled = (1 - smooth) * scaled / factor + smooth * scaled;
            }
            invFreq[i] = scaled;
        }
    }

    /** The RoPE inverse frequencies in use (after any llama3 scaling); null for GPT-2. */
    public double[] inverseFrequencies() {
        return invFreq == null ? null : invFreq.clone();
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    private float[] t(String name) {
        SafetensorsReader.Entry e = w.get(name);
        if (e == null) throw new IllegalArgumentException("missing tensor " + name);
        return e.values();
    }

    private boolean has(String name) {
        return w.containsKey(name);
    }

    /** Incremental decoding state (a float64 KV cache). */
    public final class Session {
        private final List<List<double[]>> keys = new ArrayList<>();
        private final List<List<double[]>> values = new ArrayList<>();
        private int pos;

        Session() {
            for (int l = 0; l < layers; l++) {
                keys.add(new ArrayList<>());
                values.add(new ArrayList<>());
            }
        }

        public int position() {
            return pos;
        }

        /** Feeds one token at the next position and returns the next-token logits. */
        public double[] step(int token) {
            if (token < 0 || token >= vocab) throw new IllegalArgumentException("token " + token + " outside vocab");
            if (pos >= maxPositions) throw new IllegalStateException("position " + pos + " beyond max positions");
            double[] x = gpt2 ? gpt2Step(token) : llamaStep(token);
            pos++;
            return x;
        }

        private double[] llamaStep(int token) {
            double[] x = row(t("model.embed_tokens.weight"), token, hidden);
            int q = heads * headDim, kv = kvHeads * headDim, group = heads / kvHeads;
            for (int l = 0; l < layers; l++) {
                String b = "model.layers." + l + ".";
                double[] h = rmsNorm(x, t(b + "input_layernorm.weight"), 0, hidden);
                double[] qv = linear(t(b + "self_attn.q_proj.weight"), h, q, hidden);
                double[] kvec = linear(t(b + "self_attn.k_proj.weight"), h, kv, hidden);
                double[] vvec = linear(t(b + "self_attn.v_proj.weight"), h, kv, hidden);
                if (qkvBias) {
                    add(qv, t(b + "self_attn.q_proj.bias"));
                    add(kvec, t(b + "self_attn.k_proj.bias"));
                    add(vvec, t(b + "self_attn.v_proj.bias"));
                }
                if (has(b + "self_attn.q_norm.weight")) {
                    for (int hh = 0; hh < heads; hh++) normHead(qv, hh * headDim, t(b + "self_attn.q_norm.weight"));
                    for (int hh = 0; hh < kvHeads; hh++) normHead(kvec, hh * headDim, t(b + "self_attn.k_norm.weight"));
                }
                for (int hh = 0; hh < heads; hh++) rope(qv, hh * headDim, pos);
                for (int hh = 0; hh < kvHeads; hh++) rope(kvec, hh * headDim, pos);
                keys.get(l).add(kvec);
                values.get(l).add(vvec);
                double[] attn = new double[q];
                for (int hh = 0; hh < heads; hh++) attend(qv, hh * headDim, (hh / group) * headDim, l, attn);
                double[] o = linear(t(b + "self_attn.o_proj.weight"), attn, hidden, q);
                if (outBias) add(o, t(b + "self_attn.o_proj.bias"));
                add(x, o);
                double[] h2 = rmsNorm(x, t(b + "post_attention_layernorm.weight"), 0, hidden);
                double[] gate = linear(t(b + "mlp.gate_proj.weight"), h2, inter, hidden);
                double[] up = linear(t(b + "mlp.up_proj.weight"), h2, inter, hidden);
                for (int i = 0; i < inter; i++) gate[i] = gate[i] / (1 + Math.exp(-gate[i])) * up[i];
                add(x, linear(t(b + "mlp.down_proj.weight"), gate, hidden, inter));
            }
            double[] f = rmsNorm(x, t("model.norm.weight"), 0, hidden);
            return linear(lmHead, f, vocab, hidden);
        }

        private double[] gpt2Step(int token) {
            String p = prefix;
            double[] x = row(t(p + "wte.weight"), token, hidden);
            add(x, row(t(p + "wpe.weight"), pos, hidden));
            for (int l = 0; l < layers; l++) {
                String b = p + "h." + l + ".";
                double[] a = layerNorm(x, t(b + "ln_1.weight"), t(b + "ln_1.bias"));
                double[] qkv = conv1d(t(b + "attn.c_attn.weight"), t(b + "attn.c_attn.bias"), a, hidden, 3 * hidden);
                double[] qv = java.util.Arrays.copyOfRange(qkv, 0, hidden);
                keys.get(l).add(java.util.Arrays.copyOfRange(qkv, hidden, 2 * hidden));
                values.get(l).add(java.util.Arrays.copyOfRange(qkv, 2 * hidden, 3 * hidden));
                double[] attn = new double[hidden];
                for (int hh = 0; hh < heads; hh++) attend(qv, hh * headDim, hh * headDim, l, attn);
                add(x, conv1d(t(b + "attn.c_proj.weight"), t(b + "attn.c_proj.bias"), attn, hidden, hidden));
                double[] m = layerNorm(x, t(b + "ln_2.weight"), t(b + "ln_2.bias"));
                double[] fc = conv1d(t(b + "mlp.c_fc.weight"), t(b + "mlp.c_fc.bias"), m, hidden, inter);
                for (int i = 0; i < inter; i++) fc[i] = geluNew(fc[i]);
                add(x, conv1d(t(b + "mlp.c_proj.weight"), t(b + "mlp.c_proj.bias"), fc, inter, hidden));
            }
            double[] f = layerNorm(x, t(p + "ln_f.weight"), t(p + "ln_f.bias"));
            return linear(lmHead, f, vocab, hidden);
        }

        /**
         * Causal attention of one query head (at qOff) over the cached keys/values of kv head at kOff:
         * the query is the newest position, n - 1; a windowed layer sees only the last {@code window} keys.
         */
        private void attend(double[] qv, int qOff, int kOff, int layer, double[] out) {
            List<double[]> ks = keys.get(layer), vs = values.get(layer);
            int n = ks.size();
            int first = window[layer] > 0 ? Math.max(0, n - window[layer]) : 0;
            double[] s = new double[n];
            double scale = 1.0 / Math.sqrt(headDim), max = Double.NEGATIVE_INFINITY;
            for (int j = first; j < n; j++) {
                double d = 0;
                double[] k = ks.get(j);
                for (int i = 0; i < headDim; i++) d += qv[qOff + i] * k[kOff + i];
                s[j] = d * scale;
                max = Math.max(max, s[j]);
            }
            double sum = 0;
            for (int j = first; j < n; j++) sum += (s[j] = Math.exp(s[j] - max));
            for (int j = first; j < n; j++) {
                double a = s[j] / sum;
                double[] v = vs.get(j);
                for (int i = 0; i < headDim; i++) out[qOff + i] += a * v[kOff + i];
            }
        }
    }

    public Session newSession() {
        return new Session();
    }

    /** Logits after the whole sequence. */
    public double[] nextTokenLogits(int[] tokenIds) {
        Session s = newSession();
        double[] logits = null;
        for (int id : tokenIds) logits = s.step(id);
        if (logits == null) throw new IllegalArgumentException("empty sequence");
        return logits;
    }

    @Override
    public float[] nextTokenProbabilities(int[] tokenIds) {
        return toFloat(softmax(nextTokenLogits(tokenIds)));
    }

    @Override
    public int[] greedy(int[] promptIds, int n) {
        return greedyWithProbabilities(promptIds, n).tokens();
    }

    @Override
    public Greedy greedyWithProbabilities(int[] promptIds, int n) {
        if (promptIds.length == 0) throw new IllegalArgumentException("empty prompt");
        Session s = newSession();
        double[] logits = null;
        for (int id : promptIds) logits = s.step(id);
        int[] out = new int[n];
        float[][] probs = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = argmax(logits);
            probs[i] = toFloat(softmax(logits));
            if (i + 1 < n) logits = s.step(out[i]);
        }
        return new Greedy(out, probs);
    }

    // ---------------------------------------------------------------- math

    public static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) max = Math.max(max, v);
        double sum = 0;
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) sum += (p[i] = Math.exp(logits[i] - max));
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    static int argmax(double[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static double[] row(float[] m, int r, int cols) {
        double[] out = new double[cols];
        for (int i = 0; i < cols; i++) out[i] = m[r * cols + i];
        return out;
    }

    private static void add(double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    private static void add(double[] x, float[] y) {
        for (int i = 0; i < x.length; i++) x[i] += y[i];
    }

    /** nn.Linear: W is [out, in] row-major; returns W x. */
    private static double[] linear(float[] wm, double[] x, int out, int in) {
        if (wm.length != out * in) throw new IllegalArgumentException("weight size " + wm.length + " != " + out + "x" + in);
        double[] y = new double[out];
        for (int o = 0; o < out; o++) {
            double s = 0;
            int base = o * in;
            for (int i = 0; i < in; i++) s += wm[base + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    /** transformers' Conv1D: W is [in, out] row-major; returns x W + b. */
    private static double[] conv1d(float[] wm, float[] bias, double[] x, int in, int out) {
        if (wm.length != out * in) throw new IllegalArgumentException("weight size " + wm.length + " != " + in + "x" + out);
        double[] y = new double[out];
        for (int o = 0; o < out; o++) y[o] = bias[o];
        for (int i = 0; i < in; i++) {
            double xi = x[i];
            int base = i * out;
            for (int o = 0; o < out; o++) y[o] += xi * wm[base + o];
        }
        return y;
    }

    private double[] rmsNorm(double[] x, float[] wt, int off, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += x[off + i] * x[off + i];
        double r = 1.0 / Math.sqrt(ss / n + eps);
        double[] y = new double[n];
        for (int i = 0; i < n; i++) y[i] = wt[i] * (x[off + i] * r);
        return y;
    }

    private void normHead(double[] v, int off, float[] wt) {
        double[] y = rmsNorm(v, wt, off, headDim);
        System.arraycopy(y, 0, v, off, headDim);
    }

    /** Rotate-half RoPE on v[off .. off + headDim) at position p. */
    private void rope(double[] v, int off, int p) {
        int half = headDim / 2;
        for (int i = 0; i < half; i++) {
            double a = p * invFreq[i];
            double c = Math.cos(a), s = Math.sin(a);
            double x1 = v[off + i], x2 = v[off + i + half];
            v[off + i] = x1 * c - x2 * s;
            v[off + i + half] = x2 * c + x1 * s;
        }
    }

    private double[] layerNorm(double[] x, float[] wt, float[] bias) {
        int n = x.length;
        double mean = 0;
        for (double v : x) mean += v;
        mean /= n;
        double var = 0;
        for (double v : x) var += (v - mean) * (v - mean);
        var /= n;
        double r = 1.0 / Math.sqrt(var + eps);
        double[] y = new double[n];
        for (int i = 0; i < n; i++) y[i] = (x[i] - mean) * r * wt[i] + bias[i];
        return y;
    }

    static double geluNew(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }
}
