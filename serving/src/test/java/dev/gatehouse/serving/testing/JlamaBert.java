package dev.gatehouse.serving.testing;

import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.bert.BertConfig;
import com.github.tjake.jlama.model.bert.BertModel;
import com.github.tjake.jlama.model.bert.BertTokenizer;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.SafeTensorSupport;
import com.github.tjake.jlama.safetensors.WeightLoader;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import com.github.tjake.jlama.util.JsonSupport;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Jlama 0.8.4's BERT on a model folder: the last hidden state of every token. It is not
 * transformers' BertModel, as its source and these tests show: attention is causal (each position
 * reads the KV cache up to itself), the MLP's residual skips the attention LayerNorm, and GELU is always the tanh approximation. {@link ReferenceBert} in
 * Jlama mode with {@code gelu_pytorch_tanh} reproduces it, which checks the reference's
 * embeddings, LayerNorm, attention and MLP against an independent implementation.
 */
public final class JlamaBert implements AutoCloseable {
    private final AbstractModel model;
    private final KvBufferCache cache;
    private final WeightLoader weights;
    private final int hidden;

    private JlamaBert(AbstractModel model, WeightLoader weights, int hidden) {
        this.model = model;
        this.cache = new KvBufferCache(model);
        this.weights = weights;
        this.hidden = hidden;
    }

    public static JlamaBert load(Path folder) throws Exception {
        BertConfig c = JsonSupport.om.readValue(folder.resolve("config.json").toFile(), BertConfig.class);
        WeightLoader wl = SafeTensorSupport.loadWeights(folder.toFile());
        BertModel m = new BertModel(AbstractModel.InferenceType.FULL_EMBEDDING, c, wl, new BertTokenizer(folder),
            DType.F32, DType.F32, Optional.empty());
        return new JlamaBert(m, wl, c.embeddingLength);
    }

    public synchronized float[][] hiddenStates(int[] ids) {
        float[][] out = new float[ids.length][hidden];
        try (KvBufferCache.KvBuffer kv = cache.getEphemeralKvBuffer(); AbstractTensor r = model.batchForward(ids, 0, kv)) {
            for (int i = 0; i < ids.length; i++) {
                AbstractTensor row = r.slice(i);
                for (int j = 0; j < hidden; j++) out[i][j] = row.get(0, j);
            }
        }
        return out;
    }

    @Override
    public void close() throws Exception {
        model.close();
        cache.close();
        weights.close();
    }
}
