package dev.gatehouse.serving.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.github.tjake.jlama.model.AbstractModel;
import com.github.tjake.jlama.model.DistributedContext;
import com.github.tjake.jlama.model.ModelSupport;
import com.github.tjake.jlama.safetensors.Config;
import com.github.tjake.jlama.safetensors.DType;
import com.github.tjake.jlama.safetensors.SafeTensorSupport;
import com.github.tjake.jlama.safetensors.TensorInfo;
import com.github.tjake.jlama.safetensors.WeightLoader;
import com.github.tjake.jlama.safetensors.tokenizer.Tokenizer;
import com.github.tjake.jlama.tensor.AbstractTensor;
import com.github.tjake.jlama.tensor.KvBufferCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Next-token probabilities and greedy continuations computed by Jlama 0.8.4 (an independent Java
 * LLM implementation), on token ids. Built on Jlama's lowest public level: one
 * {@code AbstractModel.forward(tokenId, position, kvBuffer, Optional.empty())} per token into an
 * ephemeral KV buffer, then {@code AbstractModel.getLogits(hidden)} for the output layer.
 *
 * <p><b>Jlama's {@code getLogits} returns probabilities, not logits</b>: it applies the final norm,
 * the output projection and then a softmax in place. Everything this class returns is therefore a
 * probability distribution (float32, sums to 1).
 *
 * <p>Supported folders: {@code model_type} llama, mistral, qwen2 and gpt2 (GPT-2 un-prefixed
 * natively; {@code transformer.}-prefixed through a renaming weight loader installed here), stored
 * as F32, or F16 (Jlama widens F16 to F32 at load, exactly). Not supported: qwen3 (no such model
 * type in Jlama 0.8.4), BF16 folders (Jlama then rounds activations to BF16 before every matmul, so
 * it is no exact oracle), a {@code head_dim} with head_dim * heads != hidden (llama/qwen2 configs ignore
 * the field; Mistral reads it but Jlama's DistributedContext computes the head range as hidden / head_dim,
 * so only that many heads are attended), GPT-2 with {@code n_inner} other than 4 * n_embd (Jlama assumes 4x). Use
 * {@link ReferenceModel} for those.
 *
 * <p>Adjustments applied at load (Jlama reads config.json itself through
 * {@code ModelSupport.loadModel}; this class instead replicates that method with a patched config):
 * <ul>
 *   <li>{@code eos_token_id} lists are reduced to their first id (Jlama's Mistral/Qwen2/GPT-2 configs
 *       only accept an int; eos does not matter here since nothing stops at eos);
 *   <li>{@code rope_scaling} of type llama3 is ignored by Jlama 0.8.4 (it honours only "linear");
 *       the oracle then overwrites Jlama's precomputed cos/sin table with HF's llama3 frequencies
 *       ({@link #ropePatched()} tells whether that happened).
 * </ul>
 *
 * <p>Jlama indexes its cos/sin table at {@code position + 2 * head} (it rotates q and k of head h as if
 * they were at a shifted position, which cancels in q·k), so with RoPE models a sequence can be at most
 * {@link #maxSequenceLength()} = max_position_embeddings - 2 * (heads - 1) tokens long (kv heads with GQA).
 *
 * <p>Results are reproducible to about 1e-5 relative, not bitwise: Jlama's Vector API reductions
 * ({@code reduceLanes(ADD)}) sum in a different order before and after C2 compiles them, so the first
 * calls in a JVM can differ in the last bits from later ones. Where both run, Jlama agrees with
 * {@link ReferenceModel} to about 2e-6 in probability (1.7e-5 in log-probability).
 */
public final class JlamaOracle implements TokenOracle, AutoCloseable {
    private static final ObjectMapper OM = new ObjectMapper();

    private final AbstractModel model;
    private final KvBufferCache kvCache;
    private final WeightLoader weights;
    private final int vocab;
    private final int maxSequence;
    private final boolean ropePatched;

    private JlamaOracle(AbstractModel model, KvBufferCache kvCache, WeightLoader weights, boolean ropePatched) {
        this.model = model;
        this.kvCache = kvCache;
        this.weights = weights;
        this.ropePatched = ropePatched;
        Config c = model.getConfig();
        this.vocab = c.vocabularySize;
        if (c.ropeFreqs.isPresent()) {
            int widest = c.isGQA ? c.numberOfKeyValueHeads : c.numberOfHeads;
            this.maxSequence = c.contextLength - 2 * (widest - 1);
        } else {
            this.maxSequence = c.contextLength;
        }
    }

    /** Loads a model folder into Jlama (F32 working memory). */
    public static JlamaOracle load(Path folder) {
        try {
            return doLoad(folder);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JlamaOracle doLoad(Path folder) throws IOException, UncheckedIOException {
        ObjectNode cfg = (ObjectNode) OM.readTree(folder.resolve("config.json").toFile());
        String type = cfg.path("model_type").asText();
        ModelSupport.ModelType modelType = switch (type) {
            case "llama" -> ModelSupport.ModelType.LLAMA;
            case "mistral" -> ModelSupport.ModelType.MISTRAL;
            case "qwen2" -> ModelSupport.ModelType.QWEN2;
            case "gpt2" -> ModelSupport.ModelType.GPT2;
            default -> throw new UnsupportedOperationException("Jlama 0.8.4 cannot run model_type '" + type + "'; use ReferenceModel");
        };
        checkDtypes(folder);
        if (modelType != ModelSupport.ModelType.GPT2) {
            int hidden = cfg.get("hidden_size").intValue(), heads = cfg.get("num_attention_heads").intValue();
            if (cfg.path("head_dim").isNumber() && cfg.get("head_dim").intValue() * heads != hidden) {
                // llama/qwen2 configs ignore head_dim; mistral reads it, but DistributedContext sets the head range to
                // hidden / head_dim heads, so only that many heads get RoPE and attention
                throw new UnsupportedOperationException("Jlama 0.8.4 mishandles head_dim * heads != hidden for " + type + "; use ReferenceModel");
            }
        }
        if (modelType == ModelSupport.ModelType.GPT2) {
            JsonNode inner = cfg.path("n_inner");
            if (inner.isNumber() && inner.intValue() != 4 * cfg.get("n_embd").intValue()) {
                throw new UnsupportedOperationException("Jlama assumes n_inner = 4 * n_embd; use ReferenceModel");
            }
            if (!cfg.path("activation_function").asText("gelu_new").equals("gelu_new")) {
                throw new UnsupportedOperationException("Jlama's GPT-2 uses gelu_new only");
            }
        }
        JsonNode eos = cfg.path("eos_token_id");
        if (eos.isArray()) cfg.put("eos_token_id", eos.get(0).intValue());

        double[] llama3InvFreq = null;
        JsonNode rs = cfg.path("rope_scaling");
        if (rs.isObject()) {
            String rt = rs.path("rope_type").asText(rs.path("type").asText());
            if (rt.equals("llama3")) {
                int heads = cfg.get("num_attention_heads").intValue();
                int headDim = cfg.get("hidden_size").intValue() / heads;
                double theta = cfg.path("rope_theta").asDouble(10000.0);
                llama3InvFreq = new double[headDim / 2];
                for (int i = 0; i < llama3InvFreq.length; i++) llama3InvFreq[i] = 1.0 / Math.pow(theta, (2.0 * i) / headDim);
                ReferenceModel.applyLlama3(llama3InvFreq, rs.get("factor").doubleValue(), rs.get("low_freq_factor").doubleValue(),
                    rs.get("high_freq_factor").doubleValue(), rs.get("original_max_position_embeddings").doubleValue());
                cfg.putNull("rope_scaling");
            } else if (!rt.equals("linear")) {
                throw new UnsupportedOperationException("Jlama does not implement rope_type " + rt);
            }
        }

        Config c = com.github.tjake.jlama.util.JsonSupport.om.treeToValue(cfg, modelType.configClass);
        Tokenizer tok;
        try {
            tok = modelType.tokenizerClass.getConstructor(Path.class).newInstance(folder);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("Jlama could not load the tokenizer of " + folder, e.getCause() != null ? e.getCause() : e);
        }
        WeightLoader wl = SafeTensorSupport.loadWeights(folder.toFile());
        if (modelType == ModelSupport.ModelType.GPT2 && !wl.isWeightPresent("wte.weight") && wl.isWeightPresent("transformer.wte.weight")) {
            wl = new PrefixStrippingLoader(wl, "transformer.");
        }
        AbstractModel m;
        try {
            m = modelType.modelClass.getConstructor(AbstractModel.InferenceType.class, Config.class, WeightLoader.class, Tokenizer.class,
                DType.class, DType.class, Optional.class)
                .newInstance(AbstractModel.InferenceType.FULL_GENERATION, c, wl, tok, DType.F32, DType.F32, Optional.empty());
        } catch (ReflectiveOperationException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new IllegalStateException("Jlama could not build the model from " + folder + ": " + cause, cause);
        }
        if (llama3InvFreq != null) patchRope(m.getConfig(), llama3InvFreq);
        return new JlamaOracle(m, new KvBufferCache(m), wl, llama3InvFreq != null);
    }

    private static void checkDtypes(Path folder) throws IOException {
        Set<String> dtypes = new HashSet<>();
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".safetensors")).toList()) {
                dtypes.addAll(SafetensorsReader.readDtypes(f).values());
            }
        }
        if (dtypes.isEmpty()) throw new IllegalArgumentException("no safetensors files in " + folder);
        for (String d : dtypes) {
            if (!d.equals("F32") && !d.equals("F16")) {
                throw new UnsupportedOperationException("JlamaOracle needs F32 (or F16) weights, found " + dtypes + "; use ReferenceModel");
            }
        }
    }

    /** Overwrites Jlama's [position * headDim/2 + i] -> {cos, sin} table with the given inverse frequencies. */
    private static void patchRope(Config c, double[] invFreq) {
        float[][] rf = c.ropeFreqs.orElseThrow();
        int half = invFreq.length;
        if (rf.length != c.contextLength * half) throw new IllegalStateException("unexpected Jlama RoPE table size " + rf.length);
        for (int p = 0; p < c.contextLength; p++) {
            for (int i = 0; i < half; i++) {
                double a = p * invFreq[i];
                rf[p * half + i][0] = (float) Math.cos(a);
                rf[p * half + i][1] = (float) Math.sin(a);
            }
        }
    }

    /** Whether the llama3 rope_scaling frequencies were patched into Jlama (it ignores them itself). */
    public boolean ropePatched() {
        return ropePatched;
    }

    /** The longest token sequence (prompt plus generated tokens) this oracle accepts. */
    public int maxSequenceLength() {
        return maxSequence;
    }

    /** The underlying Jlama model, for poking around. */
    public AbstractModel jlamaModel() {
        return model;
    }

    @Override
    public int vocabSize() {
        return vocab;
    }

    private void checkIds(int[] ids, int extra) {
        if (ids.length == 0) throw new IllegalArgumentException("empty sequence");
        if (ids.length + extra > maxSequence) {
            throw new IllegalArgumentException((ids.length + extra) + " tokens exceed Jlama's usable length " + maxSequence);
        }
        for (int id : ids) if (id < 0 || id >= vocab) throw new IllegalArgumentException("token " + id + " outside vocab " + vocab);
    }

    /**
     * The next-token distribution after the whole sequence. These are PROBABILITIES (Jlama's
     * {@code getLogits} applies a softmax), float32, length {@link #vocabSize()}.
     */
    @Override
    public synchronized float[] nextTokenProbabilities(int[] tokenIds) {
        return probabilitiesPerPosition(tokenIds)[tokenIds.length - 1];
    }

    /** {@code result[i]} is the next-token distribution (probabilities) after {@code tokenIds[0..i]}. */
    public synchronized float[][] probabilitiesPerPosition(int[] tokenIds) {
        checkIds(tokenIds, 0);
        float[][] out = new float[tokenIds.length][];
        try (KvBufferCache.KvBuffer kv = kvCache.getEphemeralKvBuffer()) {
            for (int i = 0; i < tokenIds.length; i++) {
                try (AbstractTensor h = model.forward(tokenIds[i], i, kv, Optional.empty())) {
                    out[i] = model.getLogits(h);
                }
            }
        }
        return out;
    }

    /** Greedy continuation of {@code n} tokens by Jlama; never stops at eos. */
    @Override
    public synchronized int[] greedy(int[] promptIds, int n) {
        return greedyWithProbabilities(promptIds, n).tokens();
    }

    @Override
    public synchronized Greedy greedyWithProbabilities(int[] promptIds, int n) {
        checkIds(promptIds, Math.max(0, n - 1));
        int[] toks = new int[n];
        float[][] probs = new float[n][];
        try (KvBufferCache.KvBuffer kv = kvCache.getEphemeralKvBuffer()) {
            float[] p = null;
            for (int i = 0; i < promptIds.length; i++) {
                try (AbstractTensor h = model.forward(promptIds[i], i, kv, Optional.empty())) {
                    if (i == promptIds.length - 1) p = model.getLogits(h);
                }
            }
            for (int i = 0; i < n; i++) {
                probs[i] = p;
                toks[i] = TokenOracle.argmax(p);
                if (i + 1 < n) {
                    try (AbstractTensor h = model.forward(toks[i], promptIds.length + i, kv, Optional.empty())) {
                        p = model.getLogits(h);
                    }
                }
            }
        }
        return new Greedy(toks, probs);
    }

    @Override
    public synchronized void close() {
        model.close();
        kvCache.close();
        try {
            weights.close();
        } catch (Exception e) {
            // closing quietly
        }
    }

    /** Lets Jlama's GPT-2 loader ("wte.weight", "h.0....") read {@code transformer.}-prefixed checkpoints. */
    static final class PrefixStrippingLoader implements WeightLoader {
        private final WeightLoader delegate;
        private final String prefix;

        PrefixStrippingLoader(WeightLoader delegate, String prefix) {
            this.delegate = delegate;
            this.prefix = prefix;
        }

        private String map(String name) {
            return delegate.isWeightPresent(name) ? name : prefix + name;
        }

        @Override
        public Map<String, String> metadata() {
            return delegate.metadata();
        }

        @Override
        public Map<String, TensorInfo> tensorInfoMap() {
            Map<String, TensorInfo> m = new LinkedHashMap<>();
            delegate.tensorInfoMap().forEach((k, v) -> m.put(k.startsWith(prefix) ? k.substring(prefix.length()) : k, v));
            return m;
        }

        @Override
        public AbstractTensor load(String name, DistributedContext dctx, boolean sparseRows, boolean sparseColumns) {
            return delegate.load(map(name), dctx, sparseRows, sparseColumns);
        }

        @Override
        public DType getModelDType() {
            return delegate.getModelDType();
        }

        @Override
        public void close() throws Exception {
            delegate.close();
        }
    }
}
