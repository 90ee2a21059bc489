package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.serving.load.ModelLoadException;
import dev.gatehouse.serving.testing.FolderEdits;
import dev.gatehouse.serving.testing.SafetensorsWriter;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Loading a folder the way the gateway does. Whatever is wrong with it, the user gets one
 * ModelLoadException whose message names the file (and the tensor or field) at fault: never a bare
 * NPE, IndexOutOfBounds or DJL EngineException, never a JVM abort.
 */
class LocalModelTest {
    @TempDir
    Path tmp;

    @Test
    void loadsAFolderAndCollectsEveryEosId() throws IOException {
        TestModelFolder llama = TestModelFolder.llama(); // generation_config [2, 4], config 2, tokenizer "</s>" = 2
        try (LocalModel m = LocalModel.load(llama.write(tmp.resolve("tiny-llama")), DeviceChoice.CPU)) {
            assertEquals("tiny-llama", m.name());
            assertEquals(Set.of(2, 4), m.eosTokenIds());
            assertEquals(64, m.config().hiddenSize());
        }
        TestModelFolder qwen = TestModelFolder.qwen2().eosTokenIds(100).generationEosTokenIds(101, 102);
        try (LocalModel m = LocalModel.load(qwen.write(tmp.resolve("qwen")), DeviceChoice.CPU)) {
            assertEquals(Set.of(100, 101, 102, qwen.imEndTokenId()), m.eosTokenIds());
        }
    }

    /**
     * As transformers encodes a plain prompt: the tokenizer.json post-processor adds {@code <s>}
     * unless tokenizer_config.json's add_bos_token / add_eos_token say otherwise (LlamaTokenizerFast
     * rebuilds the post-processor from them).
     */
    @Test
    void plainPromptsGetTheSpecialTokensTransformersAdds() throws IOException {
        Path llama = write(TestModelFolder.llama()); // post-processor "<s> $A", add_bos_token true
        assertArrayEquals(new int[] {1, 20, 21}, encodePrompt(llama, "t20 t21"));
        FolderEdits.editJson(llama.resolve("tokenizer_config.json"), c -> c.put("add_bos_token", false));
        assertArrayEquals(new int[] {20, 21}, encodePrompt(llama, "t20 t21"));
        FolderEdits.editJson(llama.resolve("tokenizer_config.json"), c -> c.put("add_eos_token", true));
        assertArrayEquals(new int[] {20, 21, 2}, encodePrompt(llama, "t20 t21"));
        FolderEdits.editJson(llama.resolve("tokenizer_config.json"), c -> c.remove(List.of("add_bos_token", "add_eos_token")));
        assertArrayEquals(new int[] {1, 20, 21}, encodePrompt(llama, "t20 t21"), "unsaid: the post-processor decides");
        FolderEdits.editJson(llama.resolve("tokenizer_config.json"), c -> c.put("add_eos_token", false));
        assertArrayEquals(new int[] {1, 20, 21}, encodePrompt(llama, "t20 t21"), "only add_eos_token said: bos as before");

        TestModelFolder qwenFolder = TestModelFolder.qwen2(); // no post-processor, no bos token
        Path qwen = write(qwenFolder);
        assertArrayEquals(new int[] {20, 21}, encodePrompt(qwen, "t20 t21"));
        FolderEdits.editJson(qwen.resolve("tokenizer_config.json"), c -> c.put("add_bos_token", true).put("bos_token", "<|endoftext|>"));
        assertArrayEquals(new int[] {qwenFolder.endOfTextTokenId(), 20, 21}, encodePrompt(qwen, "t20 t21"));
    }

    @Test
    void emptyPromptIsRefused() throws IOException {
        try (LocalModel m = LocalModel.load(write(TestModelFolder.llama()), DeviceChoice.CPU)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.encodePrompt(""));
            assertTrue(e.getMessage().contains("prompt"), e.getMessage());
        }
    }

    private static int[] encodePrompt(Path dir, String text) {
        try (LocalModel m = LocalModel.load(dir, DeviceChoice.CPU)) {
            return m.encodePrompt(text);
        }
    }

    @Test
    void missingFolder() {
        Path nowhere = tmp.resolve("no-such-model");
        assertRefused(nowhere, nowhere.toString(), "does not exist");
    }

    @Test
    void folderThatIsAFile() throws IOException {
        Path file = Files.writeString(tmp.resolve("model.gguf"), "GGUF");
        assertRefused(file, file.toString(), "not a folder");
    }

    @Test
    void missingConfig() throws IOException {
        Path dir = write(TestModelFolder.llama());
        Files.delete(dir.resolve("config.json"));
        assertRefused(dir, dir.resolve("config.json").toString(), "missing");
    }

    @Test
    void malformedConfig() throws IOException {
        Path dir = write(TestModelFolder.llama());
        Files.writeString(dir.resolve("config.json"), "{\"architectures\": [\"LlamaForCausalLM\"],");
        assertRefused(dir, dir.resolve("config.json").toString());
    }

    @Test
    void unsupportedArchitecture() throws IOException {
        Path dir = write(TestModelFolder.llama());
        FolderEdits.editJson(dir.resolve("config.json"), c -> c.putArray("architectures").add("GemmaForCausalLM"));
        assertRefused(dir, dir.resolve("config.json").toString(), "GemmaForCausalLM", "LlamaForCausalLM, MistralForCausalLM");
    }

    @Test
    void missingConfigField() throws IOException {
        Path dir = write(TestModelFolder.qwen2());
        FolderEdits.editJson(dir.resolve("config.json"), c -> c.remove("num_hidden_layers"));
        assertRefused(dir, dir.resolve("config.json").toString(), "num_hidden_layers");
    }

    @Test
    void missingWeights() throws IOException {
        Path dir = write(TestModelFolder.llama());
        Files.delete(dir.resolve("model.safetensors"));
        assertRefused(dir, dir.toString(), "model.safetensors");
    }

    @Test
    void safetensorsCutInTheHeader() throws IOException {
        Path dir = write(TestModelFolder.llama());
        Path file = dir.resolve("model.safetensors");
        FolderEdits.truncate(file, FolderEdits.headerLength(file) / 2);
        assertRefused(dir, file.toString(), "truncated");
    }

    @Test
    void safetensorsCutInTheData() throws IOException {
        Path dir = write(TestModelFolder.llama().dtype(TensorDtype.BF16));
        Path file = dir.resolve("model.safetensors");
        FolderEdits.truncate(file, Files.size(file) - 1000);
        assertRefused(dir, file.toString(), "truncated");
    }

    @Test
    void headerWithOffsetsPastTheEnd() throws IOException {
        Path dir = write(TestModelFolder.llama());
        Path file = dir.resolve("model.safetensors");
        FolderEdits.editHeader(file, h -> h.withObject("model.norm.weight").withArray("data_offsets").set(1, 1L << 40));
        assertRefused(dir, file.toString(), "model.norm.weight");
    }

    @Test
    void headerWithShapeThatDoesNotMatchItsBytes() throws IOException {
        Path dir = write(TestModelFolder.llama().dtype(TensorDtype.F16));
        Path file = dir.resolve("model.safetensors");
        FolderEdits.editHeader(file, h -> h.withObject("model.norm.weight").putArray("shape").add(32));
        assertRefused(dir, file.toString(), "model.norm.weight", "[32]");
    }

    /** hidden_size edited in config.json: the first tensor whose shape then differs is named, with both shapes. */
    @Test
    void configThatDoesNotMatchTheTensors() throws IOException {
        Path dir = write(TestModelFolder.llama());
        FolderEdits.editJson(dir.resolve("config.json"), c -> c.put("hidden_size", 128));
        assertRefused(dir, dir.resolve("model.safetensors").toString(), "model.embed_tokens.weight", "[256, 64]", "[256, 128]");
        Path gpt2 = write(TestModelFolder.gpt2());
        FolderEdits.editJson(gpt2.resolve("config.json"), c -> c.put("n_positions", 64));
        assertRefused(gpt2, gpt2.resolve("model.safetensors").toString(), "wpe.weight", "[128, 64]", "[64, 64]");
        Path qwen = write(TestModelFolder.qwen2());
        FolderEdits.editJson(qwen.resolve("config.json"), c -> c.put("vocab_size", 300));
        assertRefused(qwen, "model.embed_tokens.weight", "[300, 64]");
    }

    @Test
    void configWithMoreLayersThanTheWeights() throws IOException {
        Path dir = write(TestModelFolder.llama());
        FolderEdits.editJson(dir.resolve("config.json"), c -> c.put("num_hidden_layers", 3));
        assertRefused(dir, dir.resolve("model.safetensors").toString(), "model.layers.2.");
    }

    @ParameterizedTest
    @ValueSource(strings = {"I8", "F64"})
    void unknownDtype(String dtype) throws IOException {
        Path dir = write(TestModelFolder.llama());
        Path file = dir.resolve("model.safetensors");
        FolderEdits.editHeader(file, h -> h.withObject("model.layers.0.input_layernorm.weight").put("dtype", dtype));
        assertRefused(dir, file.toString(), "model.layers.0.input_layernorm.weight", dtype, "F32, F16, BF16");
    }

    @Test
    void shardedIndexNamingAMissingShard() throws IOException {
        Path dir = write(TestModelFolder.llama().dtype(TensorDtype.BF16).shards(3));
        Files.delete(dir.resolve("model-00003-of-00003.safetensors"));
        assertRefused(dir, dir.resolve("model-00003-of-00003.safetensors").toString(), "model.safetensors.index.json");
    }

    @Test
    void shardedIndexNamingATensorAbsentFromItsShard() throws IOException {
        Path dir = write(TestModelFolder.qwen2().shards(2));
        FolderEdits.editJson(dir.resolve("model.safetensors.index.json"),
                idx -> idx.withObject("weight_map").put("model.embed_tokens.weight", "model-00002-of-00002.safetensors"));
        assertRefused(dir, dir.resolve("model.safetensors.index.json").toString(), "model.embed_tokens.weight",
                "model-00002-of-00002.safetensors");
    }

    @Test
    void tensorDeletedFromTheFile() throws IOException {
        TestModelFolder folder = TestModelFolder.llama();
        Path dir = write(folder);
        Path file = dir.resolve("model.safetensors");
        String gone = "model.layers.1.self_attn.k_proj.weight";
        rewriteWithout(folder, file, gone);
        assertRefused(dir, file.toString(), gone, "missing");
    }

    /** Rewrites a single-file folder's weights without one tensor. */
    private static void rewriteWithout(TestModelFolder folder, Path file, String gone) throws IOException {
        List<SafetensorsWriter.Tensor> kept = new ArrayList<>();
        Map<String, long[]> shapes = folder.expectedShapes();
        folder.expectedTensors().forEach((name, values) -> {
            if (!name.equals(gone)) {
                kept.add(new SafetensorsWriter.Tensor(name, folder.dtype(), shapes.get(name), values));
            }
        });
        if (kept.size() == shapes.size()) {
            throw new IllegalArgumentException(gone + " is not in the folder");
        }
        SafetensorsWriter.write(file, kept, Map.of("format", "pt"));
    }

    /** transformers would start from a random lm_head; running on the embeddings instead would be just as wrong. */
    @Test
    void untiedWithoutLmHead() throws IOException {
        TestModelFolder folder = TestModelFolder.llama().tied(false);
        Path dir = write(folder);
        Path file = dir.resolve("model.safetensors");
        rewriteWithout(folder, file, "lm_head.weight");
        assertRefused(dir, file.toString(), "lm_head.weight", "missing");
    }

    @Test
    void attentionBiasWithoutTheOutputBias() throws IOException {
        TestModelFolder folder = TestModelFolder.llama().attentionBias(true);
        Path dir = write(folder);
        Path file = dir.resolve("model.safetensors");
        rewriteWithout(folder, file, "model.layers.0.self_attn.o_proj.bias");
        assertRefused(dir, file.toString(), "model.layers.0.self_attn.o_proj.bias", "missing");
    }

    @Test
    void shardedTensorDeletedFromTheIndex() throws IOException {
        Path dir = write(TestModelFolder.gpt2().shards(2));
        Path index = dir.resolve("model.safetensors.index.json");
        FolderEdits.editJson(index, idx -> idx.withObject("weight_map").remove("h.1.mlp.c_fc.bias"));
        assertRefused(dir, index.toString(), "h.1.mlp.c_fc.bias");
    }

    @Test
    void missingTokenizer() throws IOException {
        Path dir = write(TestModelFolder.llama());
        Files.delete(dir.resolve("tokenizer.json"));
        assertRefused(dir, dir.resolve("tokenizer.json").toString());
    }

    @Test
    void malformedTokenizer() throws IOException {
        Path dir = write(TestModelFolder.llama());
        Files.writeString(dir.resolve("tokenizer.json"), "{\"version\": \"1.0\", \"model\": {\"type\": \"WordLevel\"");
        assertRefused(dir, dir.resolve("tokenizer.json").toString());
    }

    @Test
    void malformedTokenizerConfig() throws IOException {
        Path dir = write(TestModelFolder.llama());
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"eos_token\": \"</s>\", \"chat_template\": ");
        assertRefused(dir, dir.resolve("tokenizer_config.json").toString());
        Files.writeString(dir.resolve("tokenizer_config.json"), "[\"not\", \"an\", \"object\"]");
        assertRefused(dir, dir.resolve("tokenizer_config.json").toString());
        Path other = write(TestModelFolder.qwen2());
        FolderEdits.editJson(other.resolve("tokenizer_config.json"), c -> c.put("chat_template", 42));
        assertRefused(other, other.resolve("tokenizer_config.json").toString(), "chat_template");
    }

    @Test
    void malformedGenerationConfig() throws IOException {
        Path dir = write(TestModelFolder.llama());
        Files.writeString(dir.resolve("generation_config.json"), "{\"eos_token_id\": [2, 4");
        assertRefused(dir, dir.resolve("generation_config.json").toString());
    }

    /** Optional files may be absent: no generation_config.json, no tokenizer_config.json. */
    @Test
    void optionalFilesMayBeMissing() throws IOException {
        Path dir = write(TestModelFolder.llama().eosTokenIds(7));
        Files.delete(dir.resolve("generation_config.json"));
        Files.delete(dir.resolve("tokenizer_config.json"));
        Files.delete(dir.resolve("special_tokens_map.json"));
        try (LocalModel m = LocalModel.load(dir, DeviceChoice.CPU)) {
            assertEquals(Set.of(7), m.eosTokenIds());
        }
    }

    private Path write(TestModelFolder folder) throws IOException {
        return folder.write(Files.createTempDirectory(tmp, folder.architecture().modelType));
    }

    private static ModelLoadException assertRefused(Path dir, String... expectedInMessage) {
        ModelLoadException e = assertThrows(ModelLoadException.class, () -> LocalModel.load(dir, DeviceChoice.CPU));
        for (String expected : expectedInMessage) {
            assertTrue(e.getMessage().contains(expected), "says '" + expected + "': " + e.getMessage());
        }
        return e;
    }
}
