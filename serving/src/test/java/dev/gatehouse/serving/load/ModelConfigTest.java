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
