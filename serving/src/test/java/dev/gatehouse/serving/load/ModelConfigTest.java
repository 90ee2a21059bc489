package dev.gatehouse.serving.load;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.serving.testing.FolderEdits;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** config.json problems are refused with one ModelLoadException that names config.json and what is wrong. */
class ModelConfigTest {
    @TempDir
    Path tmp;

    @Test
    void readsTheTestFolders() throws IOException {
        ModelConfig llama = ModelConfig.load(TestModelFolder.llama().kvHeads(2).write(tmp.resolve("llama")));
        assertEquals(ModelConfig.Family.LLAMA, llama.family());
        assertEquals(64, llama.hiddenSize());
        assertEquals(2, llama.groupSize());
        ModelConfig gpt2 = ModelConfig.load(TestModelFolder.gpt2().write(tmp.resolve("gpt2")));
        assertEquals(ModelConfig.Family.GPT2, gpt2.family());
        assertEquals(256, gpt2.intermediateSize());
        assertEquals(128, gpt2.maxPositions());
    }

    @Test
    void missingConfig() throws IOException {
        Path dir = TestModelFolder.llama().write(tmp.resolve("m"));
        Files.delete(dir.resolve("config.json"));
        assertRefused(dir, "missing");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": ", "", "   ", "nul", "{} {}"})
    void malformedConfig(String text) throws IOException {
        Path dir = TestModelFolder.llama().write(tmp.resolve("m"));
        Files.writeString(dir.resolve("config.json"), text);
        assertRefused(dir, "config.json");
    }

    @ParameterizedTest
    @ValueSource(strings = {"[1, 2]", "\"LlamaForCausalLM\"", "null", "42"})
    void configThatIsNotAnObject(String text) throws IOException {
        Path dir = TestModelFolder.llama().write(tmp.resolve("m"));
        Files.writeString(dir.resolve("config.json"), text);
        assertRefused(dir, "config.json");
    }

    @Test
    void unsupportedArchitectureListsTheSupportedOnes() throws IOException {
        ModelLoadException e = refusedAfter(TestModelFolder.llama(),
                c -> c.putArray("architectures").add("MambaForCausalLM"));
        assertTrue(e.getMessage().contains("MambaForCausalLM"), e.getMessage());
        for (String supported : List.of("LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM",
                "Qwen3ForCausalLM", "GPT2LMHeadModel")) {
            assertTrue(e.getMessage().contains(supported), "lists " + supported + ": " + e.getMessage());
        }
    }

    @Test
    void noArchitecture() throws IOException {
        assertTrue(refusedAfter(TestModelFolder.llama(), c -> c.remove("architectures")).getMessage().contains("architectures"));
        assertTrue(refusedAfter(TestModelFolder.llama(), c -> c.putArray("architectures")).getMessage().contains("architectures"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "vocab_size"})
    void missingLlamaField(String field) throws IOException {
        assertNamesField(field, refusedAfter(TestModelFolder.llama(), c -> c.remove(field)));
        assertNamesField(field, refusedAfter(TestModelFolder.qwen2(), c -> c.put(field, "64")));
        assertNamesField(field, refusedAfter(TestModelFolder.mistral(), c -> c.put(field, 0)));
        assertNamesField(field, refusedAfter(TestModelFolder.qwen3(), c -> c.put(field, -4)));
        assertNamesField(field, refusedAfter(TestModelFolder.llama(), c -> c.putNull(field)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"n_embd", "n_layer", "n_head", "vocab_size"})
    void missingGpt2Field(String field) throws IOException {
        assertNamesField(field, refusedAfter(TestModelFolder.gpt2(), c -> c.remove(field)));
        assertNamesField(field, refusedAfter(TestModelFolder.gpt2(), c -> c.put(field, 2.5)));
    }

    /** These used to reach the code as zeros: a division by zero, or an empty context. */
    @ParameterizedTest
    @ValueSource(ints = {0, -2})
    void nonPositiveOptionalSizes(int value) throws IOException {
        assertNamesField("num_key_value_heads", refusedAfter(TestModelFolder.llama(), c -> c.put("num_key_value_heads", value)));
        assertNamesField("head_dim", refusedAfter(TestModelFolder.qwen3(), c -> c.put("head_dim", value)));
        assertNamesField("max_position_embeddings",
                refusedAfter(TestModelFolder.llama(), c -> c.put("max_position_embeddings", value)));
        assertNamesField("n_positions", refusedAfter(TestModelFolder.gpt2(), c -> c.put("n_positions", value)));
        assertNamesField("n_inner", refusedAfter(TestModelFolder.gpt2(), c -> c.put("n_inner", value)));
    }

    @Test
    void headsThatDoNotDivide() throws IOException {
        ModelLoadException e = refusedAfter(TestModelFolder.llama(), c -> c.put("num_key_value_heads", 3));
        assertTrue(e.getMessage().contains("num_key_value_heads"), e.getMessage());
        // without head_dim, hidden_size must split evenly over the heads
        e = refusedAfter(TestModelFolder.qwen2(), c -> c.put("hidden_size", 66));
        assertTrue(e.getMessage().contains("hidden_size"), e.getMessage());
        e = refusedAfter(TestModelFolder.gpt2(), c -> c.put("n_embd", 66));
        assertTrue(e.getMessage().contains("n_embd"), e.getMessage());
    }

    @Test
    void unsupportedRopeScaling() throws IOException {
        ModelLoadException e = refusedAfter(TestModelFolder.llama(), c -> c.putObject("rope_scaling").put("rope_type", "yarn"));
        assertTrue(e.getMessage().contains("yarn"), e.getMessage());
    }

    @Test
    void unsupportedGpt2Activation() throws IOException {
        ModelLoadException e = refusedAfter(TestModelFolder.gpt2(), c -> c.put("activation_function", "relu"));
        assertTrue(e.getMessage().contains("relu"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"gelu", "relu", "gelu_pytorch_tanh"})
    void unsupportedHiddenAct(String act) throws IOException {
        ModelLoadException e = refusedAfter(TestModelFolder.llama(), c -> c.put("hidden_act", act));
        assertTrue(e.getMessage().contains("hidden_act") && e.getMessage().contains("'" + act + "'"), e.getMessage());
        assertTrue(refusedAfter(TestModelFolder.qwen3(), c -> c.put("hidden_act", act)).getMessage().contains(act));
    }

    /** transformers maps both silu and swish to SiLU; GPT-2's gelu_new and gelu_pytorch_tanh are the same tanh approximation. */
    @Test
    void acceptsTheActivationsItImplements() throws IOException {
        assertEquals(64, loadAfter(TestModelFolder.mistral(), c -> c.put("hidden_act", "swish")).hiddenSize());
        assertEquals(64, loadAfter(TestModelFolder.llama(), c -> c.remove("hidden_act")).hiddenSize());
        assertEquals(64, loadAfter(TestModelFolder.gpt2(), c -> c.put("activation_function", "gelu_pytorch_tanh")).hiddenSize());
    }

    @Test
    void settingsThatChangeTheComputationAreRefused() throws IOException {
        assertTrue(refusedAfter(TestModelFolder.llama(), c -> c.put("mlp_bias", true)).getMessage().contains("mlp_bias"));
        assertTrue(refusedAfter(TestModelFolder.gpt2(), c -> c.put("scale_attn_weights", false)).getMessage()
                .contains("scale_attn_weights"));
        assertTrue(refusedAfter(TestModelFolder.gpt2(), c -> c.put("scale_attn_by_inverse_layer_idx", true)).getMessage()
                .contains("scale_attn_by_inverse_layer_idx"));
        assertTrue(refusedAfter(TestModelFolder.gpt2(), c -> c.put("tie_word_embeddings", false)).getMessage()
                .contains("tie_word_embeddings"));
    }

    /** attention_bias as transformers reads it: q/k/v/o for Llama and Qwen3, q/k/v always for Qwen2, never for Mistral. */
    @Test
    void attentionBias() throws IOException {
        ModelConfig llama = loadAfter(TestModelFolder.llama(), c -> c.put("attention_bias", true));
        assertTrue(llama.qkvBias() && llama.outBias());
        ModelConfig qwen3 = loadAfter(TestModelFolder.qwen3(), c -> c.put("attention_bias", true));
        assertTrue(qwen3.qkvBias() && qwen3.outBias());
        ModelConfig qwen2 = loadAfter(TestModelFolder.qwen2(), c -> c.put("attention_bias", true));
        assertTrue(qwen2.qkvBias() && !qwen2.outBias());
        ModelConfig mistral = loadAfter(TestModelFolder.mistral(), c -> c.put("attention_bias", true));
        assertTrue(!mistral.qkvBias() && !mistral.outBias());
    }

    /**
     * Sliding windows as transformers' config classes read them: Mistral from sliding_window (4096
     * when absent, none when null), Qwen2/Qwen3 only with use_sliding_window and only in the layers
     * from max_window_layers on (or as layer_types lists them), Llama never.
     */
    @Test
    void slidingWindow() throws IOException {
        ModelConfig mistral = loadAfter(TestModelFolder.mistral().layers(2), c -> c.put("sliding_window", 8));
        assertEquals(8, mistral.slidingWindow(0));
        assertEquals(8, mistral.slidingWindow(1));
        assertEquals(4096, loadAfter(TestModelFolder.mistral(), c -> c.remove("sliding_window")).slidingWindow(0));
        assertEquals(null, loadAfter(TestModelFolder.mistral(), c -> c.putNull("sliding_window")).slidingWindow(0));
        assertEquals(null, loadAfter(TestModelFolder.llama(), c -> c.put("sliding_window", 8)).slidingWindow(0));

        ModelConfig qwenOff = loadAfter(TestModelFolder.qwen2(), c -> c.put("sliding_window", 8).put("max_window_layers", 0));
        assertEquals(null, qwenOff.slidingWindow());
        ModelConfig qwen = loadAfter(TestModelFolder.qwen2().layers(3),
                c -> c.put("use_sliding_window", true).put("sliding_window", 8).put("max_window_layers", 1));
        assertEquals(List.of(1, 2), qwen.slidingWindowLayers());
        assertEquals(null, qwen.slidingWindow(0));
        assertEquals(8, qwen.slidingWindow(2));
        ModelConfig qwen3 = loadAfter(TestModelFolder.qwen3().layers(3), c -> {
            c.put("use_sliding_window", true).put("sliding_window", 8).put("max_window_layers", 0);
            c.putArray("layer_types").add("sliding_attention").add("full_attention").add("sliding_attention");
        });
        assertEquals(List.of(0, 2), qwen3.slidingWindowLayers());
        ModelConfig defaults = loadAfter(TestModelFolder.qwen2().layers(30), c -> {
            c.put("use_sliding_window", true);
            c.remove("sliding_window");
            c.remove("max_window_layers");
        });
        assertEquals(4096, defaults.slidingWindow());
        assertEquals(List.of(28, 29), defaults.slidingWindowLayers());

        assertNamesField("layer_types", refusedAfter(TestModelFolder.qwen2(),
                c -> c.put("use_sliding_window", true).putArray("layer_types").add("full_attention")));
        assertNamesField("sliding_window", refusedAfter(TestModelFolder.mistral(), c -> c.put("sliding_window", 0)));
    }

    private ModelConfig loadAfter(TestModelFolder folder, Consumer<ObjectNode> edit) throws IOException {
        Path dir = folder.write(Files.createTempDirectory(tmp, "m"));
        FolderEdits.editJson(dir.resolve("config.json"), edit);
        return ModelConfig.load(dir);
    }

    private ModelLoadException refusedAfter(TestModelFolder folder, Consumer<ObjectNode> edit) throws IOException {
        Path dir = folder.write(Files.createTempDirectory(tmp, "m"));
        FolderEdits.editJson(dir.resolve("config.json"), edit);
        return assertRefused(dir, "");
    }

    private static ModelLoadException assertRefused(Path dir, String expected) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelConfig.load(dir));
        assertTrue(e.getMessage().contains(dir.resolve("config.json").toString()), "names the file: " + e.getMessage());
        assertTrue(e.getMessage().contains(expected), "says '" + expected + "': " + e.getMessage());
        return e;
    }

    private static void assertNamesField(String field, ModelLoadException e) {
        assertTrue(e.getMessage().contains("\"" + field + "\"") || e.getMessage().contains(field + " "),
                "names " + field + ": " + e.getMessage());
    }
}
