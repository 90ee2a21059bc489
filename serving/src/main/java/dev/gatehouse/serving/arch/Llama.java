package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.cpu.RowOps;
import dev.gatehouse.serving.load.ModelConfig;

/**
 * The Llama family: Llama 2/3 (with llama3 rope scaling), Mistral (sliding window), Qwen2 (q/k/v
 * bias) and Qwen3 (per-head RMSNorm of q and k). Pre-norm decoder layers: RMSNorm, attention with
 * rotary positions and grouped-query heads, RMSNorm, SwiGLU MLP.
 *
 * <p>At load, q/k/v projections are concatenated into one matrix and gate/up into another, so a
 * layer runs three matmuls in place of seven (for 16-bit weights kept as stored, without a copy).
 */
public final class Llama extends DecoderModel {
    private final Rope rope;
    private final Weight embed;
    private final RmsNorm finalNorm;
    private final Weight lmHead;
    private final Layer[] layers;
    private final boolean usesFullAttention; // some layer is not windowed (Mistral and Qwen may window all or some)

    private record Layer(RmsNorm inputNorm, Weight qkv, NDArray qkvBias, NDArray qkNorm, Weight out, NDArray outBias,
                         RmsNorm postNorm, Weight gateUp, Weight down) {
        /** Whether the Java kernels hold this layer's matrices, so its second half runs on float[] rows. */
        boolean inJava() {
            return out.cpu() != null && gateUp.cpu() != null && down.cpu() != null;
        }
    }

    public Llama(ModelConfig cfg, WeightLoader w) {
        super(cfg, w);
        this.rope = new Rope(cfg.headDim(), cfg.ropeTheta(), cfg.ropeScaling(), manager, dtype);
        long hidden = cfg.hiddenSize();
        long q = (long) cfg.numHeads() * cfg.headDim();
        long kv = (long) cfg.numKvHeads() * cfg.headDim();
        long inter = cfg.intermediateSize();
        embed = w.matrix("model.embed_tokens.weight", cfg.vocabSize(), hidden);
        finalNorm = RmsNorm.of(w.tensor("model.norm.weight", hidden), cfg.normEps());
        // untied without lm_head.weight is refused (the load names the missing tensor), never run on the embeddings
        lmHead = cfg.tieWordEmbeddings() ? embed : w.matrix("lm_head.weight", cfg.vocabSize(), hidden);
        layers = new Layer[cfg.numLayers()];
        boolean full = false;
        for (int i = 0; i < layers.length; i++) {
            full |= cfg.slidingWindow(i) == null;
        }
        usesFullAttention = full;
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            String a = p + "self_attn.";
            Weight qkv = w.stacked(new String[] {a + "q_proj.weight", a + "k_proj.weight", a + "v_proj.weight"},
                    new long[] {q, kv, kv}, hidden);
            NDArray qkvBias = cfg.qkvBias() ? concat(w.tensor(a + "q_proj.bias", q),
                    w.tensor(a + "k_proj.bias", kv), w.tensor(a + "v_proj.bias", kv)) : null;
            NDArray qkNorm = cfg.qkNorm() ? headNorms(w.tensor(a + "q_norm.weight", cfg.headDim()),
                    w.tensor(a + "k_norm.weight", cfg.headDim())) : null;
            Weight gateUp = w.stacked(new String[] {p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"},
                    new long[] {inter, inter}, hidden);
            layers[i] = new Layer(RmsNorm.of(w.tensor(p + "input_layernorm.weight", hidden), cfg.normEps()), qkv, qkvBias, qkNorm,
                    w.matrix(a + "o_proj.weight", hidden, q),
                    cfg.outBias() ? w.tensor(a + "o_proj.bias", hidden) : null,
                    RmsNorm.of(w.tensor(p + "post_attention_layernorm.weight", hidden), cfg.normEps()), gateUp,
                    w.matrix(p + "mlp.down_proj.weight", hidden, inter));
        }
    }

    private static NDArray concat(NDArray... parts) {
        NDArray joined = NDArrays.concat(new NDList(parts), 0);
        for (NDArray part : parts) {
            part.close();
        }
        return joined;
    }

    /** Qwen3's q and k norms as one [heads + kvHeads, headDim] weight, so both are normed in one op. */
    private NDArray headNorms(NDArray qNorm, NDArray kNorm) {
        NDArray joined = NDArrays.concat(new NDList(
                qNorm.expandDims(0).repeat(0, cfg.numHeads()), kNorm.expandDims(0).repeat(0, cfg.numKvHeads())), 0);
        qNorm.close();
        kNorm.close();
        return joined;
    }

    /** After attention: x + o_proj(attn), then that + down(silu(gate) * up) of its norm. */
    private NDArray secondHalf(NDArray x, NDArray attn, Layer layer) {
        x = x.add(layer.out().linear(attn, layer.outBias()));
        NDList gateAndUp = layer.gateUp().normThenLinear(x, layer.postNorm(), null).split(new long[] {cfg.intermediateSize()}, 2);
        return x.add(layer.down().linear(Layers.silu(gateAndUp.get(0)).mul(gateAndUp.get(1)), null));
    }

    /**
     * {@link #secondHalf} on float[] rows with the Java kernels: the same arithmetic in two reads and
     * one write of PyTorch memory, where the tensor ops cost a dozen JNI calls, each dearer than the
     * arithmetic when a step decodes a token.
     */
    private NDArray secondHalfInJava(NDArray x, NDArray attn, Layer layer) {
        int hidden = cfg.hiddenSize();
        int inter = cfg.intermediateSize();
        float[] xs = x.toFloatArray();
        int rows = xs.length / hidden;
        float[] y = new float[xs.length];
        layer.out().cpu().multiply(attn.toFloatArray(), rows, y);
        if (layer.outBias() != null) {
            float[] bias = layer.outBias().toFloatArray();
            for (int r = 0; r < rows; r++) {
                RowOps.add(y, r * hidden, bias, hidden);
            }
        }
        RowOps.add(xs, 0, y, xs.length);
        float[] h = new float[xs.length];
        RowOps.rmsNorm(xs, rows, hidden, layer.postNorm().values(), layer.postNorm().eps(), h);
        float[] gateUp = new float[rows * 2 * inter];
        layer.gateUp().cpu().multiply(h, rows, gateUp);
        float[] act = new float[rows * inter];
        RowOps.siluTimesUp(gateUp, rows, inter, act);
        layer.down().cpu().multiply(act, rows, y);
        RowOps.add(xs, 0, y, xs.length);
        return x.getManager().create(xs, x.getShape());
    }

    @Override
    public NDArray forward(StepBatch batch, KvCache cache, NDManager step) {
        int b = batch.batchSize();
        int t = batch.tokensPerSeq();
        int heads = cfg.numHeads();
        int kvHeads = cfg.numKvHeads();
        StepUploads uploads = new StepUploads();
        StepUploads.Ref ids = uploads.ints(batch.tokens(), new Shape(b, t));
        StepUploads.Ref[] angles = rope.angles(batch, uploads);
        Attention attention = new Attention(batch, cache, heads, kvHeads, cfg.headDim(), cfg.slidingWindow(),
                usesFullAttention, uploads);
        uploads.send(step, dtype);
        NDArray x = embed.embedding(ids.get());
        for (int i = 0; i < layers.length; i++) {
            Layer layer = layers[i];
            // a layer's intermediates (attention scores above all) are freed when it ends, not with the step
            try (NDManager layerManager = step.newSubManager()) {
                x.attach(layerManager); // the previous residual goes with this layer
                NDList qkAndV = layer.qkv().normThenLinear(x, layer.inputNorm(), layer.qkvBias())
                        .reshape(b, t, heads + 2L * kvHeads, cfg.headDim())
                        .split(new long[] {heads + kvHeads}, 2);
                NDArray qk = qkAndV.get(0);
                if (layer.qkNorm() != null) {
                    qk = Layers.rmsNorm(qk, layer.qkNorm(), cfg.normEps());
                }
                NDList qAndK = rope.apply(qk, angles).split(new long[] {heads}, 2);
                boolean windowed = cfg.slidingWindow(i) != null;
                NDArray attn = attention.run(i, qAndK.get(0), qAndK.get(1), qkAndV.get(1), windowed, layerManager);
                x = layer.inJava() ? secondHalfInJava(x, attn, layer) : secondHalf(x, attn, layer);
                x.attach(step);
            }
        }
        NDArray last = t == 1 ? x.squeeze(1) : x.get(new NDIndex(":, " + (t - 1)));
        NDArray logits = lmHead.normThenLinear(last, finalNorm, null);
        return logits.toType(DataType.FLOAT32, false);
    }
}
