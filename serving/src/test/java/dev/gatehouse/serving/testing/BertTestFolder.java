package dev.gatehouse.serving.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a small random-weight {@code BertModel} folder as sentence-transformers saves one:
 * {@code config.json}, {@code model.safetensors} (F32, pooler included, as transformers saves
 * BertModel), a WordPiece {@code tokenizer.json} that adds [CLS] and [SEP], and, unless
 * {@link #sentenceTransformers(boolean)} is off, {@code modules.json},
 * {@code 1_Pooling/config.json} and {@code sentence_bert_config.json}.
 *
 * <p>Vocabulary: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4, then the words {@code "t" + id}.
 * Weights: linear N(0, 1/in), embeddings N(0, 1), LayerNorm weight 1 + N(0, 0.1^2), biases N(0, 0.1^2),
 * each tensor from its own generator seeded by the seed and its name.
 */
public final class BertTestFolder {
    public static final int PAD = 0, UNK = 1, CLS = 2, SEP = 3, MASK = 4, FIRST_WORD = 5;

    private int hidden = 64, intermediate = 128, layers = 2, heads = 4, vocab = 200, maxPositions = 64;
    private long seed = 7;
    private String hiddenAct = "gelu";
    private String pooling = "mean";
    private boolean normalize = true;
    private boolean sentenceTransformers = true;
    private Integer maxSeqLength;
    private final Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();

    public BertTestFolder hidden(int v) { hidden = v; return this; }
    public BertTestFolder intermediate(int v) { intermediate = v; return this; }
    public BertTestFolder layers(int v) { layers = v; return this; }
    public BertTestFolder heads(int v) { heads = v; return this; }
    public BertTestFolder vocab(int v) { vocab = v; return this; }
    public BertTestFolder maxPositions(int v) { maxPositions = v; return this; }
    public BertTestFolder seed(long v) { seed = v; return this; }
    /** config.json hidden_act: "gelu" (erf, BERT's) or "gelu_pytorch_tanh" (the tanh form Jlama always uses). */
    public BertTestFolder hiddenAct(String v) { hiddenAct = v; return this; }
    /** "mean", "cls" or "max", written to 1_Pooling/config.json. */
    public BertTestFolder pooling(String v) { pooling = v; return this; }
    /** Whether modules.json ends with a Normalize module. */
    public BertTestFolder normalize(boolean v) { normalize = v; return this; }
    public BertTestFolder sentenceTransformers(boolean v) { sentenceTransformers = v; return this; }
    /** sentence_bert_config.json max_seq_length; absent unless set. */
    public BertTestFolder maxSeqLength(int v) { maxSeqLength = v; return this; }

    public int hiddenSize() { return hidden; }
    public int numLayers() { return layers; }
    public int numHeads() { return heads; }
    public int vocabSize() { return vocab; }
    public String hiddenAct() { return hiddenAct; }

    /** The stored values (float32) of every tensor of the last {@link #write}. */
    public Map<String, float[]> tensors() {
        Map<String, float[]> m = new LinkedHashMap<>();
        tensors.forEach((k, v) -> m.put(k, v.values()));
        return m;
    }

    /** Random ids of words (no special tokens). */
    public int[] randomWords(int n, long s) {
        SplittableRandom r = new SplittableRandom(s);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = FIRST_WORD + r.nextInt(vocab - FIRST_WORD);
        return ids;
    }

    /** Text that the tokenizer turns into exactly [CLS] + the given word ids + [SEP]. */
    public static String text(int[] wordIds) {
        StringBuilder sb = new StringBuilder();
        for (int id : wordIds) sb.append(sb.isEmpty() ? "" : " ").append('t').append(id);
        return sb.toString();
    }

    public Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        tensors.clear();
        String[] embeddingNames = { "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
            "embeddings.token_type_embeddings.weight" };
        long[][] embeddingShapes = { { vocab, hidden }, { maxPositions, hidden }, { 2, hidden } };
        for (int i = 0; i < 3; i++) add(embeddingNames[i], embeddingShapes[i], 1.0, 0);
        norm("embeddings.LayerNorm");
        for (int l = 0; l < layers; l++) {
            String p = "encoder.layer." + l + ".";
            for (String n : new String[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" }) {
                linear(p + n, hidden, hidden);
            }
            norm(p + "attention.output.LayerNorm");
            linear(p + "intermediate.dense", intermediate, hidden);
            linear(p + "output.dense", hidden, intermediate);
            norm(p + "output.LayerNorm");
        }
        linear("pooler.dense", hidden, hidden);
        SafetensorsWriter.write(dir.resolve("model.safetensors"), new ArrayList<>(tensors.values()), Map.of("format", "pt"));

        Map<String, Object> cfg = new LinkedHashMap<>();
        cfg.put("architectures", List.of("BertModel"));
        cfg.put("attention_probs_dropout_prob", 0.1);
        cfg.put("hidden_act", hiddenAct);
        cfg.put("hidden_dropout_prob", 0.1);
        cfg.put("hidden_size", hidden);
        cfg.put("initializer_range", 0.02);
        cfg.put("intermediate_size", intermediate);
        cfg.put("layer_norm_eps", 1e-12);
        cfg.put("max_position_embeddings", maxPositions);
        cfg.put("model_type", "bert");
        cfg.put("num_attention_heads", heads);
        cfg.put("num_hidden_layers", layers);
        cfg.put("pad_token_id", PAD);
        cfg.put("position_embedding_type", "absolute");
        cfg.put("torch_dtype", "float32");
        cfg.put("transformers_version", TestModelFolder.TRANSFORMERS_VERSION);
        cfg.put("type_vocab_size", 2);
        cfg.put("vocab_size", vocab);
        writeJson(dir.resolve("config.json"), cfg);
        writeTokenizer(dir.resolve("tokenizer.json"));
        if (sentenceTransformers) {
            List<Object> modules = new ArrayList<>();
            modules.add(Map.of("idx", 0, "name", "0", "path", "", "type", "sentence_transformers.models.Transformer"));
            modules.add(Map.of("idx", 1, "name", "1", "path", "1_Pooling", "type", "sentence_transformers.models.Pooling"));
            if (normalize) modules.add(Map.of("idx", 2, "name", "2", "path", "2_Normalize", "type", "sentence_transformers.models.Normalize"));
            writeJson(dir.resolve("modules.json"), modules);
            Map<String, Object> pool = new LinkedHashMap<>();
            pool.put("word_embedding_dimension", hidden);
            pool.put("pooling_mode_cls_token", pooling.equals("cls"));
            pool.put("pooling_mode_mean_tokens", pooling.equals("mean"));
            pool.put("pooling_mode_max_tokens", pooling.equals("max"));
            pool.put("pooling_mode_mean_sqrt_len_tokens", false);
            Files.createDirectories(dir.resolve("1_Pooling"));
            writeJson(dir.resolve("1_Pooling/config.json"), pool);
            if (maxSeqLength != null) {
                writeJson(dir.resolve("sentence_bert_config.json"), Map.of("max_seq_length", maxSeqLength, "do_lower_case", false));
            }
        }
        return dir;
    }

    private void linear(String name, int out, int in) {
        add(name + ".weight", new long[] { out, in }, 1.0 / Math.sqrt(in), 0);
        add(name + ".bias", new long[] { out }, 0.1, 0);
    }

    private void norm(String name) {
        add(name + ".weight", new long[] { hidden }, 0.1, 1);
        add(name + ".bias", new long[] { hidden }, 0.1, 0);
    }

    private void add(String name, long[] shape, double std, double mean) {
        long n = 1;
        for (long d : shape) n *= d;
        SplittableRandom r = new SplittableRandom(seed * 31 + name.hashCode());
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (mean + std * gaussian(r));
        tensors.put(name, new SafetensorsWriter.Tensor(name, TensorDtype.F32, shape, v));
    }

    private static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble(), w = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
    }

    private void writeTokenizer(Path file) throws IOException {
        String[] specials = { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
        Map<String, Object> vocabMap = new LinkedHashMap<>();
        List<Object> added = new ArrayList<>();
        for (int i = 0; i < vocab; i++) {
            String tok = i < FIRST_WORD ? specials[i] : "t" + i;
            vocabMap.put(tok, i);
            if (i < FIRST_WORD) {
                Map<String, Object> a = new LinkedHashMap<>();
                a.put("id", i);
                a.put("content", tok);
                a.put("single_word", false);
                a.put("lstrip", false);
                a.put("rstrip", false);
                a.put("normalized", false);
                a.put("special", true);
                added.add(a);
            }
        }
        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("version", "1.0");
        tok.put("truncation", null);
        tok.put("padding", null);
        tok.put("added_tokens", added);
        tok.put("normalizer", Map.of("type", "BertNormalizer", "clean_text", true, "handle_chinese_chars", true, "lowercase", true));
        tok.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));
        Map<String, Object> cls = Map.of("SpecialToken", Map.of("id", "[CLS]", "type_id", 0));
        Map<String, Object> sep = Map.of("SpecialToken", Map.of("id", "[SEP]", "type_id", 0));
        tok.put("post_processor", Map.of("type", "TemplateProcessing",
            "single", List.of(cls, Map.of("Sequence", Map.of("id", "A", "type_id", 0)), sep),
            "pair", List.of(cls, Map.of("Sequence", Map.of("id", "A", "type_id", 0)), sep,
                Map.of("Sequence", Map.of("id", "B", "type_id", 1)), Map.of("SpecialToken", Map.of("id", "[SEP]", "type_id", 1))),
            "special_tokens", Map.of("[CLS]", Map.of("id", "[CLS]", "ids", List.of(CLS), "tokens", List.of("[CLS]")),
                "[SEP]", Map.of("id", "[SEP]", "ids", List.of(SEP), "tokens", List.of("[SEP]")))));
        tok.put("decoder", Map.of("type", "WordPiece", "prefix", "##", "cleanup", true));
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "WordPiece");
        model.put("unk_token", "[UNK]");
        model.put("continuing_subword_prefix", "##");
        model.put("max_input_chars_per_word", 100);
        model.put("vocab", vocabMap);
        tok.put("model", model);
        writeJson(file, tok);
    }

    private static void writeJson(Path file, Object value) throws IOException {
        Files.writeString(file, Json.write(value, true, false), StandardCharsets.UTF_8);
    }
}
