package dev.gatehouse.serving.arch;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;
import dev.gatehouse.serving.load.ModelConfig;

/**
 * GPT-2: learned positions, LayerNorm, multi-head attention, gelu_new MLP, head tied to the token
 * embedding. Its checkpoints store Conv1D weights as [in, out]; they are transposed once at load so
 * every projection is the same {@code linear} as in the Llama family. Weight names come with or
 * without the {@code transformer.} prefix depending on the transformers version that wrote them;
 * the {@code attn.bias} causal-mask buffers of old checkpoints are ignored.
 */
public final class Gpt2 extends DecoderModel {
    private final Weight tokenEmbed;
    private final NDArray positionEmbed;
    private final NDArray[] finalNorm;
    private final Block[] blocks;

    private record Block(NDArray[] norm1, Weight qkv, NDArray qkvBias, Weight out, NDArray outBias,
                         NDArray[] norm2, Weight up, NDArray upBias, Weight down, NDArray downBias) {}

    public Gpt2(ModelConfig cfg, WeightLoader w) {
        super(cfg, w);
        String prefix = w.has("transformer.wte.weight") ? "transformer." : "";
        long hidden = cfg.hiddenSize();
        long inner = cfg.intermediateSize();
        tokenEmbed = w.matrix(prefix + "wte.weight", cfg.vocabSize(), hidden);
        positionEmbed = w.tensor(prefix + "wpe.weight", cfg.maxPositions(), hidden);
        finalNorm = norm(w, prefix + "ln_f.", hidden);
        blocks = new Block[cfg.numLayers()];
        for (int i = 0; i < blocks.length; i++) {
            String p = prefix + "h." + i + ".";
            blocks[i] = new Block(norm(w, p + "ln_1.", hidden),
                    w.transposed(p + "attn.c_attn.weight", hidden, 3 * hidden), w.tensor(p + "attn.c_attn.bias", 3 * hidden),
                    w.transposed(p + "attn.c_proj.weight", hidden, hidden), w.tensor(p + "attn.c_proj.bias", hidden),
                    norm(w, p + "ln_2.", hidden),
                    w.transposed(p + "mlp.c_fc.weight", hidden, inner), w.tensor(p + "mlp.c_fc.bias", inner),
                    w.transposed(p + "mlp.c_proj.weight", inner, hidden), w.tensor(p + "mlp.c_proj.bias", hidden));
        }
    }

    private static NDArray[] norm(WeightLoader w, String name, long hidden) {
        return new NDArray[] {w.tensor(name + "weight", hidden), w.tensor(name + "bias", hidden)};
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
        NDArray x = tokenEmbed.embedding(ids.get()).add(Layers.embedding(positionIds.get(), positionEmbed));
        for (int i = 0; i < blocks.length; i++) {
            Block block = blocks[i];
            try (NDManager layerManager = step.newSubManager()) { // the layer's intermediates end with it
                x.attach(layerManager);
                NDList qkv = block.qkv().linear(layerNorm(x, block.norm1()), block.qkvBias())
                        .reshape(b, t, 3L * heads, cfg.headDim())
                        .split(new long[] {heads, 2L * heads}, 2);
                NDArray attn = attention.run(i, qkv.get(0), qkv.get(1), qkv.get(2), false, layerManager);
                x = x.add(block.out().linear(attn, block.outBias()));
                NDArray up = block.up().linear(layerNorm(x, block.norm2()), block.upBias());
                x = x.add(block.down().linear(Layers.geluNew(up), block.downBias()));
                x.attach(step);
            }
        }
        NDArray last = t == 1 ? x.squeeze(1) : x.get(new NDIndex(":, " + (t - 1)));
        NDArray logits = tokenEmbed.linear(layerNorm(last, finalNorm), null);
        return logits.toType(DataType.FLOAT32, false);
    }

    private NDArray layerNorm(NDArray x, NDArray[] weightBias) {
        return LayerNorm.layerNorm(x, new Shape(cfg.hiddenSize()), weightBias[0], weightBias[1], (float) cfg.normEps())
                .singletonOrThrow();
    }
}
