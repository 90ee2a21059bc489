package dev.gatehouse.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.engine.Engine;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.serving.testing.SparseCheckpoint;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `gatehouse generate` as a user runs it: by folder or store name, streamed or --json, errors without stack traces. */
class GenerateCommandTest {
    @TempDir
    static Path store;

    @BeforeAll
    static void writeModel() throws Exception {
        TestModelFolder.llama().write(store.resolve("tiny-llama"));
    }

    /** A model that cannot fit is refused before any weight is read: one line and exit 1, not the OOM killer. */
    @Test
    void aModelThatCannotFitIsRefusedInOneLine() throws Exception {
        Path big = SparseCheckpoint.llama2_7b(store.resolve("llama-2-7b"), TensorDtype.BF16);
        CliRun r = CliRun.run("generate", "--model", big.toString(), "--prompt", "Hello", "--device", "cpu",
                "--memory-limit-mb", "12288");
        assertEquals(1, r.code(), r.err());
        assertEquals("", r.out());
        String line = r.err().strip();
        assertFalse(line.contains("\n"), line);
        assertTrue(line.startsWith("error: not loading llama-2-7b: it needs about 14.6 GB on the CPU (weights 13.5 GB as BF16"), line);
        // what is free: the limit (12.9 GB), or less when the shared machine has less available right now
        assertTrue(line.matches(".* but only \\d+\\.\\d GB is free \\((memory-limit-mb 12288|MemAvailable .*)\\); use a smaller model.*"), line);

        CliRun fits = CliRun.run("generate", "--model", "tiny-llama", "--model-store", store.toString(), "--prompt", "t20",
                "--max-tokens", "2", "--memory-limit-mb", "12288", "--json");
        assertEquals(0, fits.code(), fits.err());

        CliRun negative = CliRun.run("generate", "--model", big.toString(), "--prompt", "Hello", "--memory-limit-mb", "-1");
        assertEquals(1, negative.code());
        assertEquals("error: --memory-limit-mb must be 0 (what the machine has free) or a number of MiB, not -1",
                negative.err().strip());
    }

    @Test
    void jsonOutputCarriesTokensAndFinishReason() throws Exception {
        CliRun r = CliRun.run("generate", "--model", "tiny-llama", "--model-store", store.toString(), "--prompt", "t20 t21 t22",
                "--max-tokens", "5", "--temperature", "0", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals(5, json.get("token_ids").size());
        assertEquals(5, json.get("completion_tokens").asInt());
        assertEquals("length", json.get("finish_reason").asText());
        assertEquals("[1,20,21,22]", json.get("prompt_token_ids").toString(), "<s> (the tokenizer's bos) then the words");
        assertFalse(json.get("text").asText().isEmpty());
    }

    /** The streamed text is the whole text, and the stats line counts what was really fed and generated. */
    @Test
    void streamsTextThenReportsSpeed() throws Exception {
        String[] request = {"generate", "--model", store.resolve("tiny-llama").toString(), "--prompt", "t20 t21",
                "--chat", "--max-tokens", "6", "--temperature", "0"};
        CliRun streamed = CliRun.run(request);
        assertEquals(0, streamed.code(), streamed.err());
        String[] asJson = java.util.Arrays.copyOf(request, request.length + 1);
        asJson[request.length] = "--json";
        CliRun whole = CliRun.run(asJson);
        assertEquals(0, whole.code(), whole.err());
        JsonNode json = new ObjectMapper().readTree(whole.out());

        assertFalse(json.get("text").asText().isEmpty());
        assertEquals(json.get("text").asText() + System.lineSeparator(), streamed.out());
        // <s> <|im_start|> user t20 t21 <|im_end|> <|im_start|> assistant, as the template writes it
        assertEquals("[1,3,6,20,21,4,3,7]", json.get("prompt_token_ids").toString());
        String stats = "prompt tokens: 8, generated tokens: " + json.get("token_ids").size()
                + " (" + json.get("finish_reason").asText() + ")";
        assertTrue(streamed.err().startsWith(stats), "'" + stats + "' in: " + streamed.err());
        assertTrue(streamed.err().contains("tokens/s"), streamed.err());
    }

    @Test
    void deviceIsOneOfThreeAndCudaNeedsAGpu() {
        CliRun bogus = CliRun.run("generate", "--model", "tiny-llama", "--model-store", store.toString(), "--prompt", "t20",
                "--device", "bogus");
        assertEquals(1, bogus.code());
        assertTrue(bogus.err().startsWith("error: device must be auto, cpu, cuda or cuda:N, not 'bogus'"), bogus.err());
        assertEquals(1, bogus.err().lines().count(), "one line: " + bogus.err());

        assumeTrue(Engine.getEngine("PyTorch").getGpuCount() == 0, "PyTorch sees a GPU here");
        CliRun cuda = CliRun.run("generate", "--model", "tiny-llama", "--model-store", store.toString(), "--prompt", "t20",
                "--device", "cuda");
        assertEquals(1, cuda.code());
        assertTrue(cuda.err().startsWith("error: device cuda:0 was asked for but libtorch is a CPU build"), cuda.err());
        assertTrue(cuda.err().contains("sees no CUDA GPU"), cuda.err());
        assertEquals(1, cuda.err().lines().count(), "one line: " + cuda.err());
        CliRun auto = CliRun.run("generate", "--model", "tiny-llama", "--model-store", store.toString(), "--prompt", "t20",
                "--device", "auto", "--max-tokens", "2", "--json");
        assertEquals(0, auto.code(), auto.err());
    }

    /** A tokenizer that adds bos would turn "" into [bos] and generate from nothing: refused, naming the option. */
    @Test
    void emptyPromptIsRefused() {
        CliRun r = CliRun.run("generate", "--model", "tiny-llama", "--model-store", store.toString(), "--prompt", "");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: --prompt is empty"), r.err());
        assertEquals(1, r.err().lines().count(), "one line: " + r.err());
        assertEquals("", r.out());
    }

    @Test
    void badInputIsOneClearLine() {
        CliRun missing = CliRun.run("generate", "--model", "no-such-model", "--model-store", store.toString(), "--prompt", "x");
        assertEquals(1, missing.code());
        assertTrue(missing.err().startsWith("error: model 'no-such-model'"), missing.err());
        assertFalse(missing.err().contains("\tat "), "no stack trace");

        CliRun zero = CliRun.run("generate", "--model", "tiny-llama", "--model-store", store.toString(), "--prompt", "x",
                "--max-tokens", "0");
        assertEquals(1, zero.code());
        assertTrue(zero.err().contains("max_tokens"), zero.err());
    }
}
