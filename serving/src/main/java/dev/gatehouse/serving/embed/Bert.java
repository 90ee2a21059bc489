package dev.gatehouse.serving.embed;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.LayerNorm;
import dev.gatehouse.serving.arch.Layers;
import dev.gatehouse.serving.load.ModelWeights;

/**
 * BERT's encoder ({@code BertModel}) on DJL PyTorch: word + position + token-type embeddings and a
 * LayerNorm, then post-norm layers of bidirectional self-attention and a GELU MLP. Padding is kept
 * out of attention by a large negative bias on padded keys, so a padded input's real tokens get the
 * same states as when the input runs alone. The pooler ({@code pooler.dense}) is not used:
 * sentence-transformers pools the last hidden states itself.
 *
 * <p>Weights are FP32 on CPU (as {@link ModelWeights} loads them); checkpoints saved from
 * {@code BertForPreTraining} carry a {@code bert.} prefix, which is accepted.
 */
public final class Bert implements Encoder {
    private final EncoderConfig cfg;
    private final NDManager manager;
    private final NDArray wordEmbeddings;
    private final NDArray positionEmbeddings;
    private final NDArray tokenType0;
    private final NDArray embedNormWeight;
    private final NDArray embedNormBias;
    private final Layer[] layers;

    private record Layer(NDArray qkv, NDArray qkvBias, NDArray out, NDArray outBias, NDArray attnNormWeight,
                         NDArray attnNormBias, NDArray up, NDArray upBias, NDArray down, NDArray downBias,
                         NDArray mlpNormWeight, NDArray mlpNormBias) {}

    public Bert(EncoderConfig cfg, ModelWeights w, Device device) {
        this.cfg = cfg;
        this.manager = NDManager.newBaseManager(device, "PyTorch");
        try {
            String p = w.has("bert.embeddings.word_embeddings.weight") ? "bert." : "";
            long h = cfg.hiddenSize();
            long inter = cfg.intermediateSize();
            DataType f32 = DataType.FLOAT32;
            wordEmbeddings = w.load(p + "embeddings.word_embeddings.weight", manager, f32, cfg.vocabSize(), h);
            positionEmbeddings = w.load(p + "embeddings.position_embeddings.weight", manager, f32, cfg.maxPositions(), h);
            try (NDArray types = w.load(p + "embeddings.token_type_embeddings.weight", manager, f32, cfg.typeVocabSize(), h)) {
                // one sentence per input: every token is type 0. A copy, since the row would be a view
                // of memory-mapped data that closing `types` lets go of
                tokenType0 = types.get(0).duplicate();
            }
            embedNormWeight = w.load(p + "embeddings.LayerNorm.weight", manager, f32, h);
            embedNormBias = w.load(p + "embeddings.LayerNorm.bias", manager, f32, h);
            layers = new Layer[cfg.numLayers()];
            for (int i = 0; i < layers.length; i++) {
                String l = p + "encoder.layer." + i + ".";
                String a = l + "attention.";
                NDArray qkv = concat(w.load(a + "self.query.weight", manager, f32, h, h),
                        w.load(a + "self.key.weight", manager, f32, h, h), w.load(a + "self.value.weight", manager, f32, h, h));
                NDArray qkvBias = concat(w.load(a + "self.query.bias", manager, f32, h),
                        w.load(a + "self.key.bias", manager, f32, h), w.load(a + "self.value.bias", manager, f32, h));
                layers[i] = new Layer(qkv, qkvBias,
                        w.load(a + "output.dense.weight", manager, f32, h, h), w.load(a + "output.dense.bias", manager, f32, h),
                        w.load(a + "output.LayerNorm.weight", manager, f32, h), w.load(a + "output.LayerNorm.bias", manager, f32, h),
                        w.load(l + "intermediate.dense.weight", manager, f32, inter, h), w.load(l + "intermediate.dense.bias", manager, f32, inter),
                        w.load(l + "output.dense.weight", manager, f32, h, inter), w.load(l + "output.dense.bias", manager, f32, h),
                        w.load(l + "output.LayerNorm.weight", manager, f32, h), w.load(l + "output.LayerNorm.bias", manager, f32, h));
            }
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static NDArray concat(NDArray... parts) {
        NDArray joined = NDArrays.concat(new NDList(parts), 0);
        for (NDArray part : parts) {
            part.close();
        }
        return joined;
    }

    @Override
    public int hiddenSize() {
        return cfg.hiddenSize();
    }

    @Override
    public int vocabSize() {
        return cfg.vocabSize();
    }

    @Override
    public NDManager newStepManager() {
        return manager.newSubManager();
    }

    @Override
    public NDArray forward(long[][] ids, long[][] mask, NDManager step) {
        int b = ids.length;
        int t = ids[0].length;
        int heads = cfg.numHeads();
        int hd = cfg.headDim();
        long h = cfg.hiddenSize();
        NDArray idArray = step.create(ids);
        NDArray maskArray = step.create(mask).toType(DataType.FLOAT32, false);
        // [b, 1, 1, t]: 0 for a real key, -1e9 for padding (exp underflows to exactly 0)
        NDArray keyBias = maskArray.sub(1).mul(1e9).reshape(b, 1, 1, t);
        NDArray positions = positionEmbeddings.get(new NDIndex(":" + t));
        NDArray x = Layers.embedding(idArray, wordEmbeddings).add(positions).add(tokenType0);
        x = layerNorm(x, embedNormWeight, embedNormBias);
        double scale = 1 / Math.sqrt(hd);
        for (Layer layer : layers) {
            NDArray qkv = Layers.linear(x, layer.qkv(), layer.qkvBias()).reshape(b, t, 3, heads, hd);
            NDArray q = qkv.get(new NDIndex(":, :, 0")).transpose(0, 2, 1, 3);
            NDArray k = qkv.get(new NDIndex(":, :, 1")).transpose(0, 2, 3, 1);
            NDArray v = qkv.get(new NDIndex(":, :, 2")).transpose(0, 2, 1, 3);
            NDArray probs = q.matMul(k).mul(scale).add(keyBias).softmax(-1);
            NDArray context = probs.matMul(v).transpose(0, 2, 1, 3).reshape(new Shape(b, t, h));
            x = layerNorm(x.add(Layers.linear(context, layer.out(), layer.outBias())), layer.attnNormWeight(), layer.attnNormBias());
            NDArray up = gelu(Layers.linear(x, layer.up(), layer.upBias()));
            x = layerNorm(x.add(Layers.linear(up, layer.down(), layer.downBias())), layer.mlpNormWeight(), layer.mlpNormBias());
        }
        return x;
    }

    private NDArray layerNorm(NDArray x, NDArray weight, NDArray bias) {
        return LayerNorm.layerNorm(x, new Shape(cfg.hiddenSize()), weight, bias, (float) cfg.layerNormEps()).singletonOrThrow();
    }

    /** BERT's "gelu" is the exact erf form; "gelu_new" / "gelu_pytorch_tanh" the tanh approximation. */
    private NDArray gelu(NDArray x) {
        if (cfg.hiddenAct().equals("gelu")) {
            return x.mul(x.div(Math.sqrt(2)).erf().add(1)).mul(0.5);
        }
        return Layers.geluNew(x);
    }

    @Override
    public void close() {
        manager.close();
    }
}
