package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.load.ModelWeights;

/**
 * The Llama family: Llama 2/3 (with llama3 rope scaling), Mistral (sliding window), Qwen2 (q/k/v
 * bias) and Qwen3 (per-head RMSNorm of q and k). Pre-norm decoder layers: RMSNorm, attention with
 * rotary positions and grouped-query heads, RMSNorm, SwiGLU MLP.
 *
 * <p>At load, q/k/v projections are concatenated into one matrix and gate/up into another, so a
 * layer runs three matmuls in place of seven.
 */
public final class Llama extends DecoderModel {
    private final Rope rope;
    private final NDArray embed;
    private final NDArray finalNorm;
    private final NDArray lmHead;
    private final Layer[] layers;
    private final boolean usesFullAttention; // some layer is not windowed (Mistral and Qwen may window all or some)

    private record Layer(NDArray inputNorm, NDArray qkv, NDArray qkvBias, NDArray qkNorm, NDArray out, NDArray outBias,
                         NDArray postNorm, NDArray gateUp, NDArray down) {}

    public Llama(ModelConfig cfg, ModelWeights w, NDManager manager, DataType dtype) {
        super(cfg, manager, dtype);
        this.rope = new Rope(cfg.headDim(), cfg.ropeTheta(), cfg.ropeScaling(), manager, dtype);
        long hidden = cfg.hiddenSize();
        long q = (long) cfg.numHeads() * cfg.headDim();
        long kv = (long) cfg.numKvHeads() * cfg.headDim();
        long inter = cfg.intermediateSize();
        embed = w.load("model.embed_tokens.weight", manager, dtype, cfg.vocabSize(), hidden);
        finalNorm = w.load("model.norm.weight", manager, dtype, hidden);
        // untied without lm_head.weight is refused (the load names the missing tensor), never run on the embeddings
        lmHead = cfg.tieWordEmbeddings() ? embed : w.load("lm_head.weight", manager, dtype, cfg.vocabSize(), hidden);
        layers = new Layer[cfg.numLayers()];
        boolean full = false;
        for (int i = 0; i < layers.length; i++) {
            full |= cfg.slidingWindow(i) == null;
        }
        usesFullAttention = full;
        for (int i = 0; i < layers.length; i++) {
            String p = "model.layers." + i + ".";
            String a = p + "self_attn.";
            NDArray qkv = concat(w.load(a + "q_proj.weight", manager, dtype, q, hidden),
                    w.load(a + "k_proj.weight", manager, dtype, kv, hidden),
                    w.load(a + "v_proj.weight", manager, dtype, kv, hidden));
            NDArray qkvBias = cfg.qkvBias() ? concat(w.load(a + "q_proj.bias", manager, dtype, q),
                    w.load(a + "k_proj.bias", manager, dtype, kv), w.load(a + "v_proj.bias", manager, dtype, kv)) : null;
            NDArray qkNorm = cfg.qkNorm() ? headNorms(w.load(a + "q_norm.weight", manager, dtype, cfg.headDim()),
                    w.load(a + "k_norm.weight", manager, dtype, cfg.headDim())) : null;
            NDArray gateUp = concat(w.load(p + "mlp.gate_proj.weight", manager, dtype, inter, hidden),
                    w.load(p + "mlp.up_proj.weight", manager, dtype, inter, hidden));
            layers[i] = new Layer(w.load(p + "input_layernorm.weight", manager, dtype, hidden), qkv, qkvBias, qkNorm,
                    w.load(a + "o_proj.weight", manager, dtype, hidden, q),
                    cfg.outBias() ? w.load(a + "o_proj.bias", manager, dtype, hidden) : null,
                    w.load(p + "post_attention_layernorm.weight", manager, dtype, hidden), gateUp,
                    w.load(p + "mlp.down_proj.weight", manager, dtype, hidden, inter));
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
        long inter = cfg.intermediateSize();
        NDArray x = Layers.embedding(ids.get(), embed);
        for (int i = 0; i < layers.length; i++) {
            Layer layer = layers[i];
            // a layer's intermediates (attention scores above all) are freed when it ends, not with the step
            try (NDManager layerManager = step.newSubManager()) {
                x.attach(layerManager); // the previous residual goes with this layer
                NDArray h = Layers.rmsNorm(x, layer.inputNorm(), cfg.normEps());
                NDList qkAndV = Layers.linear(h, layer.qkv(), layer.qkvBias())
                        .reshape(b, t, heads + 2L * kvHeads, cfg.headDim())
                        .split(new long[] {heads + kvHeads}, 2);
                NDArray qk = qkAndV.get(0);
                if (layer.qkNorm() != null) {
                    qk = Layers.rmsNorm(qk, layer.qkNorm(), cfg.normEps());
                }
                NDList qAndK = rope.apply(qk, angles).split(new long[] {heads}, 2);
                boolean windowed = cfg.slidingWindow(i) != null;
                NDArray attn = attention.run(i, qAndK.get(0), qAndK.get(1), qkAndV.get(1), windowed, layerManager);
                x = x.add(Layers.linear(attn, layer.out(), layer.outBias()));
                h = Layers.rmsNorm(x, layer.postNorm(), cfg.normEps());
                NDList gateAndUp = Layers.linear(h, layer.gateUp(), null).split(new long[] {inter}, 2);
                x = x.add(Layers.linear(Layers.silu(gateAndUp.get(0)).mul(gateAndUp.get(1)), layer.down(), null));
                x.attach(step);
            }
        }
        NDArray last = t == 1 ? x.squeeze(1) : x.get(new NDIndex(":, " + (t - 1)));
        NDArray logits = Layers.linear(Layers.rmsNorm(last, finalNorm, cfg.normEps()), lmHead, null);
        return logits.toType(DataType.FLOAT32, false);
    }
}
