package dev.gatehouse.serving.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class TestModelFolderTest {
    private static final ObjectMapper OM = new ObjectMapper();

    @TempDir
    Path tmp;

    static Stream<TestModelFolder> variants() {
        return Stream.of(
            TestModelFolder.llama(),
            TestModelFolder.llama().tied(true).dtype(TensorDtype.BF16),
            TestModelFolder.llama().dtype(TensorDtype.F16).shards(2),
            TestModelFolder.llama().ropeScaling(8.0, 1.0, 4.0, 64),
            TestModelFolder.mistral().shards(3),
            TestModelFolder.qwen2().dtype(TensorDtype.BF16),
            TestModelFolder.qwen3().shards(2),
            TestModelFolder.gpt2(),
            TestModelFolder.gpt2().gpt2Prefixed(true).dtype(TensorDtype.BF16).shards(2));
    }

    private static JsonNode json(Path p) throws Exception {
        return OM.readTree(p.toFile());
    }

    // ------------------------------------------------------------------ safetensors

    @ParameterizedTest
    @MethodSource("variants")
    void weightFilesParseBackExactly(TestModelFolder f) throws Exception {
        Path dir = f.write(tmp.resolve("m"));
        Map<String, float[]> expected = f.expectedTensors();
        Map<String, long[]> shapes = f.expectedShapes();
        for (String file : f.weightFileNames()) {
            Path p = dir.resolve(file);
            assertTrue(Files.exists(p), file);
            byte[] all = Files.readAllBytes(p);
            long n = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, n % 8, "header length is a multiple of 8");
            String header = new String(all, 8, (int) n, StandardCharsets.UTF_8);
            assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\"}"), header);
            String trimmed = header.stripTrailing();
            assertTrue(trimmed.endsWith("}"));
            assertTrue(header.substring(trimmed.length()).chars().allMatch(c -> c == ' '), "padding is spaces");
            SafetensorsReader.File parsed = SafetensorsReader.read(p);
            assertEquals(Map.of("format", "pt"), parsed.metadata());
            List<String> names = new ArrayList<>(parsed.tensors().keySet());
            List<String> sorted = new ArrayList<>(names);
            sorted.sort(null);
            assertEquals(sorted, names, "tensors are laid out sorted by name, like python safetensors");
        }
        Map<String, SafetensorsReader.Entry> read = SafetensorsReader.readFolder(dir);
        assertEquals(new HashSet<>(expected.keySet()), read.keySet());
        for (Map.Entry<String, float[]> e : expected.entrySet()) {
            SafetensorsReader.Entry r = read.get(e.getKey());
            assertEquals(f.dtype(), r.dtype(), e.getKey());
            assertArrayEquals(shapes.get(e.getKey()), r.shape(), e.getKey());
            float[] exp = e.getValue();
            for (int i = 0; i < exp.length; i++) {
                if (Float.floatToRawIntBits(exp[i]) != Float.floatToRawIntBits(r.values()[i])) {
                    throw new AssertionError(e.getKey() + "[" + i + "]: expected " + exp[i] + " read " + r.values()[i]);
                }
            }
        }
    }

    @Test
    void roundingIsNearestEvenAndExpectedValuesAreRepresentable() {
        // bf16 has 7 explicit mantissa bits: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 -> even (1.0)
        assertEquals(1.0f, TensorDtype.BF16.round(1.00390625f));
        // 1 + 3 * 2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even) -> 1 + 2^-6
        assertEquals(1.015625f, TensorDtype.BF16.round(1.01171875f));
        assertEquals(1.0078125f, TensorDtype.BF16.round(1.0078f));
        // f16 has 10 mantissa bits
        assertEquals(1.0f, TensorDtype.F16.round(1.00048828125f));
        assertEquals(1.001953125f, TensorDtype.F16.round(1.00146484375f));
        assertEquals((short) 0x3F80, TensorDtype.floatToBf16Bits(1.0f));
        assertEquals((short) 0xC040, TensorDtype.floatToBf16Bits(-3.0f));
        for (TensorDtype d : TensorDtype.values()) {
            TestModelFolder f = TestModelFolder.llama().dtype(d);
            boolean anyNonTrivial = false;
            for (float[] v : f.expectedTensors().values()) {
                for (float x : v) {
                    assertEquals(Float.floatToRawIntBits(x), Float.floatToRawIntBits(d.round(x)));
                    if (d == TensorDtype.BF16) assertEquals(0, Float.floatToRawIntBits(x) & 0xFFFF);
                    anyNonTrivial |= x != 0 && x != 1;
                }
            }
            assertTrue(anyNonTrivial);
        }
        // the same draws, rounded differently
        float a = TestModelFolder.llama().expectedTensors().get("model.norm.weight")[3];
        float b = TestModelFolder.llama().dtype(TensorDtype.BF16).expectedTensors().get("model.norm.weight")[3];
        assertEquals(TensorDtype.BF16.round(a), b);
    }

    @ParameterizedTest
    @MethodSource("variants")
    void shardedIndexIsConsistent(TestModelFolder f) throws Exception {
        Path dir = f.write(tmp.resolve("m"));
        Path index = dir.resolve("model.safetensors.index.json");
        if (f.shardCount() == 1) {
            assertFalse(Files.exists(index));
            assertEquals(List.of("model.safetensors"), f.weightFileNames());
            return;
        }
        assertFalse(Files.exists(dir.resolve("model.safetensors")));
        JsonNode idx = json(index);
        JsonNode wm = idx.get("weight_map");
        Map<String, long[]> shapes = f.expectedShapes();
        assertEquals(shapes.keySet(), names(wm));
        long total = 0;
        Set<String> seen = new HashSet<>();
        for (String file : f.weightFileNames()) {
            assertTrue(file.matches("model-0000[1-9]-of-0000" + f.shardCount() + "\\.safetensors"), file);
            SafetensorsReader.File sf = SafetensorsReader.read(dir.resolve(file));
            assertFalse(sf.tensors().isEmpty(), file + " is empty");
            for (SafetensorsReader.Entry e : sf.tensors().values()) {
                assertEquals(file, wm.get(e.name()).textValue());
                assertTrue(seen.add(e.name()), e.name() + " in two shards");
                total += e.end() - e.begin();
            }
        }
        assertEquals(shapes.keySet(), seen);
        assertEquals(total, idx.get("metadata").get("total_size").longValue());
        // shards hold contiguous runs of the state dict, in order
        List<String> order = new ArrayList<>(shapes.keySet());
        int lastShard = 1;
        for (String name : order) {
            int shard = Integer.parseInt(wm.get(name).textValue().substring(6, 11));
            assertTrue(shard == lastShard || shard == lastShard + 1, name);
            lastShard = shard;
        }
        assertEquals(f.shardCount(), lastShard);
    }

    private static Set<String> names(JsonNode obj) {
        Set<String> s = new HashSet<>();
        obj.fieldNames().forEachRemaining(s::add);
        return s;
    }

    // ------------------------------------------------------------------ names and configs

    @Test
    void llamaLayout() throws Exception {
        TestModelFolder f = TestModelFolder.llama().hidden(64).intermediate(128).layers(2).heads(4).kvHeads(2).vocab(320);
        Map<String, long[]> s = f.expectedShapes();
        assertArrayEquals(new long[] { 320, 64 }, s.get("model.embed_tokens.weight"));
        assertArrayEquals(new long[] { 64, 64 }, s.get("model.layers.1.self_attn.q_proj.weight"));
        assertArrayEquals(new long[] { 32, 64 }, s.get("model.layers.1.self_attn.k_proj.weight"));
        assertArrayEquals(new long[] { 32, 64 }, s.get("model.layers.1.self_attn.v_proj.weight"));
        assertArrayEquals(new long[] { 64, 64 }, s.get("model.layers.1.self_attn.o_proj.weight"));
        assertArrayEquals(new long[] { 128, 64 }, s.get("model.layers.0.mlp.gate_proj.weight"));
        assertArrayEquals(new long[] { 128, 64 }, s.get("model.layers.0.mlp.up_proj.weight"));
        assertArrayEquals(new long[] { 64, 128 }, s.get("model.layers.0.mlp.down_proj.weight"));
        assertArrayEquals(new long[] { 64 }, s.get("model.layers.0.input_layernorm.weight"));
        assertArrayEquals(new long[] { 64 }, s.get("model.layers.0.post_attention_layernorm.weight"));
        assertArrayEquals(new long[] { 64 }, s.get("model.norm.weight"));
        assertArrayEquals(new long[] { 320, 64 }, s.get("lm_head.weight"));
        assertEquals(2 + 2 * 9 + 1, s.size());
        assertFalse(s.keySet().stream().anyMatch(k -> k.endsWith(".bias")));

        Map<String, long[]> tied = TestModelFolder.llama().tied(true).expectedShapes();
        assertFalse(tied.containsKey("lm_head.weight"));
        // tying does not change the other tensors
        assertArrayEquals(f.vocab(256).expectedTensors().get("model.layers.0.mlp.up_proj.weight"),
            TestModelFolder.llama().tied(true).expectedTensors().get("model.layers.0.mlp.up_proj.weight"));

        Path dir = TestModelFolder.llama().write(tmp.resolve("llama"));
        JsonNode c = json(dir.resolve("config.json"));
        assertEquals("LlamaForCausalLM", c.get("architectures").get(0).textValue());
        assertEquals("llama", c.get("model_type").textValue());
        assertEquals(64, c.get("hidden_size").intValue());
        assertEquals(128, c.get("intermediate_size").intValue());
        assertEquals(2, c.get("num_hidden_layers").intValue());
        assertEquals(4, c.get("num_attention_heads").intValue());
        assertEquals(2, c.get("num_key_value_heads").intValue());
        assertEquals(16, c.get("head_dim").intValue());
        assertEquals(1e-5, c.get("rms_norm_eps").doubleValue());
        assertEquals(10000.0, c.get("rope_theta").doubleValue());
        assertTrue(c.get("rope_scaling").isNull());
        assertEquals(1024, c.get("max_position_embeddings").intValue());
        assertEquals(256, c.get("vocab_size").intValue());
        assertFalse(c.get("tie_word_embeddings").booleanValue());
        assertEquals(1, c.get("bos_token_id").intValue());
        assertEquals(2, c.get("eos_token_id").intValue());
        assertEquals("float32", c.get("torch_dtype").textValue());
        assertEquals("silu", c.get("hidden_act").textValue());
        // python json.dumps(indent=2, sort_keys=True) formatting
        String text = Files.readString(dir.resolve("config.json"));
        assertTrue(text.startsWith("{\n  \"architectures\": [\n    \"LlamaForCausalLM\"\n  ],\n  \"attention_bias\": false,"), text);
        assertTrue(text.contains("\"rms_norm_eps\": 1e-05,"), text);
        assertTrue(text.contains("\"rope_theta\": 10000.0,"), text);
        assertTrue(text.endsWith("}\n"));

        JsonNode g = json(dir.resolve("generation_config.json"));
        assertEquals(1, g.get("bos_token_id").intValue());
        assertTrue(g.get("eos_token_id").isArray());
        assertEquals(List.of(2, 4), List.of(g.get("eos_token_id").get(0).intValue(), g.get("eos_token_id").get(1).intValue()));
    }

    @Test
    void llama3RopeScalingAndEosList() throws Exception {
        Path dir = TestModelFolder.llama().ropeScaling(32.0, 1.0, 4.0, 8192).eosTokenIds(2, 4).write(tmp.resolve("l3"));
        JsonNode c = json(dir.resolve("config.json"));
        JsonNode rs = c.get("rope_scaling");
        assertEquals("llama3", rs.get("rope_type").textValue());
        assertEquals(32.0, rs.get("factor").doubleValue());
        assertEquals(1.0, rs.get("low_freq_factor").doubleValue());
        assertEquals(4.0, rs.get("high_freq_factor").doubleValue());
        assertEquals(8192, rs.get("original_max_position_embeddings").intValue());
        assertTrue(c.get("eos_token_id").isArray());
        assertEquals(2, c.get("eos_token_id").size());
        assertThrows(IllegalStateException.class, () -> TestModelFolder.qwen2().ropeScaling(8, 1, 4, 64).write(tmp.resolve("bad")));
    }

    @Test
    void qwenLayouts() throws Exception {
        Map<String, long[]> q2 = TestModelFolder.qwen2().expectedShapes();
        assertArrayEquals(new long[] { 64 }, q2.get("model.layers.0.self_attn.q_proj.bias"));
        assertArrayEquals(new long[] { 32 }, q2.get("model.layers.0.self_attn.k_proj.bias"));
        assertArrayEquals(new long[] { 32 }, q2.get("model.layers.0.self_attn.v_proj.bias"));
        assertFalse(q2.containsKey("model.layers.0.self_attn.o_proj.bias"));
        assertFalse(q2.containsKey("lm_head.weight"), "qwen2 default is tied");
        JsonNode c2 = json(TestModelFolder.qwen2().write(tmp.resolve("q2")).resolve("config.json"));
        assertEquals("Qwen2ForCausalLM", c2.get("architectures").get(0).textValue());
        assertEquals(253, c2.get("bos_token_id").intValue());
        assertEquals(255, c2.get("eos_token_id").intValue());
        assertFalse(c2.has("head_dim"));
        assertTrue(c2.get("tie_word_embeddings").booleanValue());

        TestModelFolder f3 = TestModelFolder.qwen3();
        Map<String, long[]> q3 = f3.expectedShapes();
        assertEquals(32, f3.headDim());
        assertArrayEquals(new long[] { 128, 64 }, q3.get("model.layers.0.self_attn.q_proj.weight"));
        assertArrayEquals(new long[] { 64, 64 }, q3.get("model.layers.0.self_attn.k_proj.weight"));
        assertArrayEquals(new long[] { 64, 128 }, q3.get("model.layers.0.self_attn.o_proj.weight"));
        assertArrayEquals(new long[] { 32 }, q3.get("model.layers.0.self_attn.q_norm.weight"));
        assertArrayEquals(new long[] { 32 }, q3.get("model.layers.1.self_attn.k_norm.weight"));
        assertFalse(q3.keySet().stream().anyMatch(k -> k.endsWith(".bias")));
        JsonNode c3 = json(f3.write(tmp.resolve("q3")).resolve("config.json"));
        assertEquals("qwen3", c3.get("model_type").textValue());
        assertEquals("Qwen3ForCausalLM", c3.get("architectures").get(0).textValue());
        assertEquals(32, c3.get("head_dim").intValue());
        assertEquals(1000000.0, c3.get("rope_theta").doubleValue());
    }

    @Test
    void gpt2Layouts() throws Exception {
        TestModelFolder f = TestModelFolder.gpt2().hidden(64).layers(2).heads(4).vocab(256).maxPositions(128);
        Map<String, long[]> s = f.expectedShapes();
        assertArrayEquals(new long[] { 256, 64 }, s.get("wte.weight"));
        assertArrayEquals(new long[] { 128, 64 }, s.get("wpe.weight"));
        assertArrayEquals(new long[] { 64 }, s.get("h.0.ln_1.weight"));
        assertArrayEquals(new long[] { 64 }, s.get("h.0.ln_1.bias"));
        assertArrayEquals(new long[] { 1, 1, 128, 128 }, s.get("h.0.attn.bias"));
        assertArrayEquals(new long[] { 64, 192 }, s.get("h.0.attn.c_attn.weight"), "Conv1D is [in, out]");
        assertArrayEquals(new long[] { 192 }, s.get("h.0.attn.c_attn.bias"));
        assertArrayEquals(new long[] { 64, 64 }, s.get("h.1.attn.c_proj.weight"));
        assertArrayEquals(new long[] { 64, 256 }, s.get("h.1.mlp.c_fc.weight"));
        assertArrayEquals(new long[] { 256, 64 }, s.get("h.1.mlp.c_proj.weight"));
        assertArrayEquals(new long[] { 64 }, s.get("ln_f.bias"));
        assertFalse(s.containsKey("lm_head.weight"));
        float[] mask = f.expectedTensors().get("h.1.attn.bias");
        assertEquals(1f, mask[5 * 128 + 5]);
        assertEquals(0f, mask[5 * 128 + 6]);

        TestModelFolder p = TestModelFolder.gpt2().gpt2Prefixed(true);
        Map<String, long[]> ps = p.expectedShapes();
        assertTrue(ps.keySet().stream().allMatch(k -> k.startsWith("transformer.")), ps.keySet().toString());
        assertFalse(ps.keySet().stream().anyMatch(k -> k.endsWith(".attn.bias")));
        assertEquals(s.size() - 2, ps.size());
        // same values under either naming
        assertArrayEquals(f.expectedTensors().get("h.0.attn.c_attn.weight"), p.expectedTensors().get("transformer.h.0.attn.c_attn.weight"));

        JsonNode c = json(f.write(tmp.resolve("g")).resolve("config.json"));
        assertEquals("GPT2LMHeadModel", c.get("architectures").get(0).textValue());
        assertEquals("gpt2", c.get("model_type").textValue());
        assertEquals(64, c.get("n_embd").intValue());
        assertEquals(2, c.get("n_layer").intValue());
        assertEquals(4, c.get("n_head").intValue());
        assertEquals(128, c.get("n_positions").intValue());
        assertEquals(128, c.get("n_ctx").intValue());
        assertTrue(c.get("n_inner").isNull());
        assertEquals(1e-5, c.get("layer_norm_epsilon").doubleValue());
        assertEquals("gelu_new", c.get("activation_function").textValue());
        assertEquals(255, c.get("bos_token_id").intValue());
        assertEquals(255, c.get("eos_token_id").intValue());
        assertFalse(c.has("hidden_size"));
        assertThrows(IllegalStateException.class, () -> TestModelFolder.gpt2().tied(false).expectedShapes());
    }

    @Test
    void deterministicFromSeed() {
        Map<String, float[]> a = TestModelFolder.mistral().seed(7).expectedTensors();
        Map<String, float[]> b = TestModelFolder.mistral().seed(7).expectedTensors();
        Map<String, float[]> c = TestModelFolder.mistral().seed(8).expectedTensors();
        for (String k : a.keySet()) {
            assertArrayEquals(a.get(k), b.get(k), k);
            assertFalse(Arrays.equals(a.get(k), c.get(k)), k);
        }
        // scales as documented
        float[] q = a.get("model.layers.0.self_attn.q_proj.weight");
        assertEquals(1.0 / 8, std(q), 0.01);
        float[] o = a.get("model.layers.0.self_attn.o_proj.weight");
        assertEquals(16.0 / 8, std(o), 0.15);
        float[] e = a.get("model.embed_tokens.weight");
        assertEquals(8.0 / 8, std(e), 0.05);
        float[] n = a.get("model.norm.weight");
        assertEquals(1.0, mean(n), 0.05);
    }

    private static double mean(float[] v) {
        double s = 0;
        for (float x : v) s += x;
        return s / v.length;
    }

    private static double std(float[] v) {
        double m = mean(v), s = 0;
        for (float x : v) s += (x - m) * (x - m);
        return Math.sqrt(s / v.length);
    }

    // ------------------------------------------------------------------ tokenizer

    @ParameterizedTest
    @EnumSource(TestModelFolder.Architecture.class)
    void tokenizerLoadsInHuggingFaceTokenizers(TestModelFolder.Architecture arch) throws Exception {
        TestModelFolder f = switch (arch) {
            case LLAMA -> TestModelFolder.llama();
            case MISTRAL -> TestModelFolder.mistral();
            case QWEN2 -> TestModelFolder.qwen2();
            case QWEN3 -> TestModelFolder.qwen3();
            case GPT2 -> TestModelFolder.gpt2();
        };
        f.vocab(300);
        Path dir = f.write(tmp.resolve(arch.name()));
        JsonNode tj = json(dir.resolve("tokenizer.json"));
        JsonNode vocab = tj.get("model").get("vocab");
        assertEquals(300, vocab.size());
        Set<Integer> ids = new HashSet<>();
        for (Iterator<JsonNode> it = vocab.elements(); it.hasNext();) ids.add(it.next().intValue());
        assertEquals(300, ids.size());
        assertTrue(ids.stream().allMatch(i -> i >= 0 && i < 300));
        for (JsonNode a : tj.get("added_tokens")) {
            assertEquals(a.get("id").intValue(), vocab.get(a.get("content").textValue()).intValue());
        }

        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"), Map.of())) {
            boolean bos = arch == TestModelFolder.Architecture.LLAMA || arch == TestModelFolder.Architecture.MISTRAL;
            long[] plain = tok.encode("t17 t18  t250", true, false).getIds();
            int shift = bos ? 1 : 0;
            if (bos) assertEquals(f.bosTokenId(), plain[0]);
            assertArrayEquals(new long[] { 17, 18, 250 }, Arrays.copyOfRange(plain, shift, plain.length));
            long[] raw = tok.encode("t20 t21", false, false).getIds();
            assertArrayEquals(new long[] { 20, 21 }, raw);

            String chat = f.tokenText(f.imStartTokenId()) + "user\nt40 t41" + f.tokenText(f.imEndTokenId()) + "\n"
                + f.tokenText(f.imStartTokenId()) + "assistant\n";
            long[] chatIds = tok.encode(chat, false, false).getIds();
            int first = f.firstRegularTokenId();
            assertArrayEquals(new long[] { f.imStartTokenId(), first + 1, 40, 41, f.imEndTokenId(), f.imStartTokenId(), first + 2 }, chatIds);
            assertEquals("t40 t41", tok.decode(new long[] { 40, 41 }, true));
        }

        JsonNode tc = json(dir.resolve("tokenizer_config.json"));
        assertEquals(f.tokenText(f.eosTokenId()), tc.get("eos_token").textValue());
        assertTrue(tc.get("chat_template").textValue().contains("<|im_start|>"));
        assertTrue(tc.get("chat_template").textValue().contains("'\\n'"), "real checkpoints escape newlines inside Jinja literals");
        switch (arch) {
            case LLAMA, MISTRAL -> {
                assertEquals("<s>", tc.get("bos_token").textValue());
                assertTrue(tc.get("chat_template").textValue().startsWith("{{ bos_token }}"));
            }
            case QWEN2, QWEN3 -> {
                assertTrue(tc.get("bos_token").isNull());
                assertEquals("<|endoftext|>", tc.get("pad_token").textValue());
            }
            case GPT2 -> assertEquals("<|endoftext|>", tc.get("bos_token").textValue());
        }
        JsonNode added = tc.get("added_tokens_decoder");
        for (int id : f.specialTokenIds()) assertEquals(f.tokenText(id), added.get(Integer.toString(id)).get("content").textValue());
        JsonNode stm = json(dir.resolve("special_tokens_map.json"));
        assertEquals(f.tokenText(f.eosTokenId()), stm.get("eos_token").textValue());
    }

    @Test
    void vocabularyHelpers() {
        TestModelFolder l = TestModelFolder.llama().vocab(64);
        String[] t = l.tokens();
        assertEquals(64, t.length);
        assertEquals("<unk>", t[0]);
        assertEquals("<s>", t[1]);
        assertEquals("</s>", t[2]);
        assertEquals("system", t[5]);
        assertEquals("t8", t[8]);
        assertEquals(64, new HashSet<>(Arrays.asList(t)).size());
        TestModelFolder g = TestModelFolder.gpt2().vocab(64);
        assertEquals("<|endoftext|>", g.tokenText(63));
        assertEquals(63, g.eosTokenId());
        assertEquals(60, g.lastRegularTokenId());
        int[] r = g.randomTokens(100, 1);
        assertTrue(Arrays.stream(r).allMatch(x -> x >= 3 && x <= 60));
        assertNotEquals(-1, l.unkTokenId());
        assertEquals(-1, g.unkTokenId());
        assertNull(TestModelFolder.qwen2().specialTokensMap().get("bos_token"));
    }

    @Test
    void pythonFloatFormatting() {
        assertEquals("1e-06", Json.pythonFloat(1e-6));
        assertEquals("1e-05", Json.pythonFloat(1e-5));
        assertEquals("0.0001", Json.pythonFloat(1e-4));
        assertEquals("10000.0", Json.pythonFloat(10000.0));
        assertEquals("1000000.0", Json.pythonFloat(1e6));
        assertEquals("0.02", Json.pythonFloat(0.02));
        assertEquals("1e+16", Json.pythonFloat(1e16));
        assertEquals("-2.5e-07", Json.pythonFloat(-2.5e-7));
        assertEquals("0.0", Json.pythonFloat(0.0));
    }
}
