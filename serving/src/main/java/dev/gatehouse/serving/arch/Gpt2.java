package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;
import dev.gatehouse.serving.load.ModelConfig;
import dev.gatehouse.serving.load.ModelWeights;

/**
 * GPT-2: learned positions, LayerNorm, multi-head attention, gelu_new MLP, head tied to the token
 * embedding. Its checkpoints store Conv1D weights as [in, out]; they are transposed once at load so
 * every projection is the same {@code linear} as in the Llama family. Weight names come with or
 * without the {@code transformer.} prefix depending on the transformers version that wrote them;
 * the {@code attn.bias} causal-mask buffers of old checkpoints are ignored.
 */
public final class Gpt2 extends DecoderModel {
    private final NDArray tokenEmbed;
    private final NDArray positionEmbed;
    private final NDArray[] finalNorm;
    private final Block[] blocks;

    private record Block(NDArray[] norm1, NDArray qkv, NDArray qkvBias, NDArray out, NDArray outBias,
                         NDArray[] norm2, NDArray up, NDArray upBias, NDArray down, NDArray downBias) {}

    public Gpt2(ModelConfig cfg, ModelWeights w, NDManager manager, DataType dtype) {
        super(cfg, manager, dtype);
        String prefix = w.has("transformer.wte.weight") ? "transformer." : "";
        long hidden = cfg.hiddenSize();
        long inner = cfg.intermediateSize();
        tokenEmbed = w.load(prefix + "wte.weight", manager, dtype, cfg.vocabSize(), hidden);
        positionEmbed = w.load(prefix + "wpe.weight", manager, dtype, cfg.maxPositions(), hidden);
        finalNorm = norm(w, prefix + "ln_f.", hidden);
        blocks = new Block[cfg.numLayers()];
        for (int i = 0; i < blocks.length; i++) {
            String p = prefix + "h." + i + ".";
            blocks[i] = new Block(norm(w, p + "ln_1.", hidden),
                    conv1d(w, p + "attn.c_attn.weight", hidden, 3 * hidden), w.load(p + "attn.c_attn.bias", manager, dtype, 3 * hidden),
                    conv1d(w, p + "attn.c_proj.weight", hidden, hidden), w.load(p + "attn.c_proj.bias", manager, dtype, hidden),
                    norm(w, p + "ln_2.", hidden),
                    conv1d(w, p + "mlp.c_fc.weight", hidden, inner), w.load(p + "mlp.c_fc.bias", manager, dtype, inner),
                    conv1d(w, p + "mlp.c_proj.weight", inner, hidden), w.load(p + "mlp.c_proj.bias", manager, dtype, hidden));
        }
    }

    private NDArray[] norm(ModelWeights w, String name, long hidden) {
        return new NDArray[] {w.load(name + "weight", manager, dtype, hidden), w.load(name + "bias", manager, dtype, hidden)};
    }

    /** A Conv1D weight [in, out] as a contiguous linear weight [out, in]. */
    private NDArray conv1d(ModelWeights w, String name, long in, long out) {
        NDArray stored = w.load(name, manager, dtype, in, out);
        NDArray linear = stored.transpose().duplicate();
        stored.close();
        return linear;
    }

    @Override
    public NDArray forward(StepBatch batch, KvCache cache, NDManager step) {
        int b = batch.batchSize();
        int t = batch.tokensPerSeq();
        int heads = cfg.numHeads();
        int[] positions = new int[b * t];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = batch.starts()[i / t] + i % t;
        }
        Shape shape = new Shape(b, t);
        StepUploads uploads = new StepUploads();
        StepUploads.Ref ids = uploads.ints(batch.tokens(), shape);
        StepUploads.Ref positionIds = uploads.ints(positions, shape);
        Attention attention = new Attention(batch, cache, heads, heads, cfg.headDim(), null, true, uploads);
        uploads.send(step, dtype);
        NDArray x = Layers.embedding(ids.get(), tokenEmbed).add(Layers.embedding(positionIds.get(), positionEmbed));
        for (int i = 0; i < blocks.length; i++) {
            Block block = blocks[i];
            try (NDManager layerManager = step.newSubManager()) { // the layer's intermediates end with it
                x.attach(layerManager);
                NDList qkv = Layers.linear(layerNorm(x, block.norm1()), block.qkv(), block.qkvBias())
                        .reshape(b, t, 3L * heads, cfg.headDim())
                        .split(new long[] {heads, 2L * heads}, 2);
                NDArray attn = attention.run(i, qkv.get(0), qkv.get(1), qkv.get(2), false, layerManager);
                x = x.add(Layers.linear(attn, block.out(), block.outBias()));
                NDArray up = Layers.linear(layerNorm(x, block.norm2()), block.up(), block.upBias());
                x = x.add(Layers.linear(Layers.geluNew(up), block.down(), block.downBias()));
                x.attach(step);
            }
        }
        NDArray last = t == 1 ? x.squeeze(1) : x.get(new NDIndex(":, " + (t - 1)));
        NDArray logits = Layers.linear(layerNorm(last, finalNorm), tokenEmbed, null);
        return logits.toType(DataType.FLOAT32, false);
    }

    private NDArray layerNorm(NDArray x, NDArray[] weightBias) {
        return LayerNorm.layerNorm(x, new Shape(cfg.hiddenSize()), weightBias[0], weightBias[1], (float) cfg.normEps())
                .singletonOrThrow();
    }
}
