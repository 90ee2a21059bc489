package dev.gatehouse.gateway.hub;

import dev.gatehouse.gateway.Main;
import dev.gatehouse.serving.load.Safetensors;
import dev.gatehouse.serving.testing.BertTestFolder;
import dev.gatehouse.serving.testing.TensorDtype;
import dev.gatehouse.serving.testing.TestModelFolder;
import dev.gatehouse.serving.engine.DtypeChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.MemoryEstimate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code gatehouse models list | rm | verify} on a store holding a pulled model and hand-copied ones. */
class ModelsCommandsTest {
    static final String PULLED = "test-org--tiny-llama";

    @TempDir
    Path tmp;
    Path store;
    FakeHub hub;
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();

    @BeforeEach
    void setUp() throws IOException {
        store = tmp.resolve("model-store");
        Path source = TestModelFolder.llama().dtype(TensorDtype.BF16).write(Files.createDirectories(tmp.resolve("source")));
        hub = new FakeHub().add("test-org/tiny-llama", source, "c0ffee0000000000000000000000000000000000", null);
        new ModelPull(new HubClient(hub.url(), null), new Progress(new PrintWriter(new StringWriter()), false))
                .pull(new ModelPull.Request("test-org/tiny-llama", "main", List.of(), List.of(), store, null));

        new BertTestFolder().write(Files.createDirectories(store.resolve("mini-bert")));
        Path t5 = TestModelFolder.gpt2().write(Files.createDirectories(store.resolve("some-t5")));
        Files.writeString(t5.resolve("config.json"), Files.readString(t5.resolve("config.json"))
                .replace("GPT2LMHeadModel", "T5ForConditionalGeneration"));
        Files.createDirectories(store.resolve(".partial/half-done")); // a pull in progress is not a model
    }

    @AfterEach
    void tearDown() {
        hub.close();
    }

    int run(String... args) {
        CommandLine cli = Main.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        String[] all = Arrays.copyOf(args, args.length + 2);
        all[args.length] = "--model-store";
        all[args.length + 1] = store.toString();
        return cli.execute(all);
    }

    String row(String name) {
        return out.toString().lines().filter(l -> l.startsWith(name + " ")).findFirst().orElseThrow(() -> new AssertionError(out));
    }

    static long parameters(Path folder) {
        return Safetensors.open(folder.resolve("model.safetensors")).tensors().values().stream()
                .mapToLong(Safetensors.TensorInfo::elementCount).sum();
    }

    @Test
    void listShowsEveryModelWithArchitectureParametersDtypeSizeAndServability() throws IOException {
        assertEquals(0, run("models", "list"), err.toString());

        List<String> lines = out.toString().lines().toList();
        assertEquals(4, lines.size(), out.toString()); // header + three models, no .partial
        assertTrue(lines.get(0).matches("NAME +ARCHITECTURE +PARAMS +DTYPE +SIZE +MEMORY +SERVABLE"), lines.get(0));

        List<String> llama = List.of(row(PULLED).trim().split(" +"));
        long params = parameters(store.resolve(PULLED)); // counted by serving's own reader
        assertTrue(params > 1_000 && params < 1_000_000, "test model size changed: " + params);
        long onDisk = StoredModels.sizeOnDisk(store.resolve(PULLED));
        // what serve checks before loading: the weights (BF16 kept as stored), the default KV cache, working buffers
        long memory = MemoryEstimate.forEngine(store.resolve(PULLED), DtypeChoice.AUTO, EngineConfig.defaults()).totalBytes();
        assertTrue(memory > params * 2, "weights and more: " + memory);
        assertEquals(List.of(PULLED, "LlamaForCausalLM", Math.round(params / 1e3) + "K", "BF16",
                String.format(java.util.Locale.ROOT, "%.1f", onDisk / 1024.0), "KiB",
                String.format(java.util.Locale.ROOT, "%.1f", memory / 1048576.0), "MiB", "yes"), llama);
        assertTrue(row("mini-bert").contains(" - "), "no estimate for an embedding model: " + row("mini-bert"));

        assertTrue(row("mini-bert").contains("BertModel") && row("mini-bert").endsWith(" yes"), row("mini-bert"));
        assertTrue(row("some-t5").contains("T5ForConditionalGeneration") && row("some-t5").endsWith(" no"), row("some-t5"));
        assertTrue(row("some-t5").contains(" F32 "), row("some-t5"));
    }

    @Test
    void listOnAnEmptyStoreSaysHowToGetAModel() throws IOException {
        store = tmp.resolve("empty");
        assertEquals(0, run("models", "list"));
        assertTrue(out.toString().contains("no models in") && out.toString().contains("download-model"), out.toString());
    }

    @Test
    void rmDeletesTheModelAndItsUnfinishedPull() throws IOException {
        Files.createDirectories(store.resolve(".partial/some-t5"));

        assertEquals(0, run("models", "rm", "some-t5"), err.toString());

        assertTrue(out.toString().startsWith("removed some-t5 ("), out.toString());
        assertFalse(Files.exists(store.resolve("some-t5")));
        assertFalse(Files.exists(store.resolve(".partial/some-t5")));
        assertTrue(Files.isDirectory(store.resolve(PULLED)));
    }

    @Test
    void rmOfAnUnknownModelNamesTheOnesThereAreAndRefusesPaths() {
        assertEquals(1, run("models", "rm", "nope"));
        assertTrue(err.toString().contains("no model 'nope' in ") && err.toString().contains("models: mini-bert, some-t5, " + PULLED),
                err.toString());

        assertEquals(1, run("models", "rm", "../source"));
        assertTrue(Files.isDirectory(tmp.resolve("source")), "rm must not leave the store");
    }

    @Test
    void verifyPassesOnAnIntactModel() {
        assertEquals(0, run("models", "verify", PULLED), err.toString());
        assertTrue(out.toString().startsWith("ok: " + PULLED + ": 6 files match the manifest (test-org/tiny-llama at c0ffee"),
                out.toString());
    }

    @Test
    void verifyNamesEveryDamagedFile() throws IOException {
        Path weights = store.resolve(PULLED).resolve("model.safetensors");
        byte[] b = Files.readAllBytes(weights);
        b[b.length - 1] ^= 1; // same size, one bit flipped
        Files.write(weights, b);
        Files.writeString(store.resolve(PULLED).resolve("config.json"), " ", StandardOpenOption.APPEND);
        Files.delete(store.resolve(PULLED).resolve("tokenizer.json"));

        assertEquals(1, run("models", "verify", PULLED));

        String e = err.toString();
        assertTrue(e.contains("mismatch: model.safetensors: sha256 "), e);
        assertTrue(e.contains("mismatch: config.json: size "), e);
        assertTrue(e.contains("mismatch: tokenizer.json: missing"), e);
        assertTrue(e.contains("does not match its manifest (3 files)"), e);
    }

    @Test
    void verifyOfAHandCopiedModelSaysThereIsNoManifest() {
        assertEquals(1, run("models", "verify", "mini-bert"));
        assertTrue(err.toString().contains("mini-bert has no gatehouse-manifest.json"), err.toString());
    }

    @Test
    void anUnservableArchitectureGetsAWarningNamingTheSupportedOnes() {
        String warning = ServableCheck.warning(store.resolve("some-t5"));
        assertTrue(warning.startsWith("warning: Gatehouse cannot serve some-t5 (architecture T5ForConditionalGeneration)"), warning);
        assertTrue(warning.contains("LlamaForCausalLM") && warning.contains("Qwen3ForCausalLM"), warning);
        assertEquals(null, ServableCheck.warning(store.resolve(PULLED)));
        assertEquals(null, ServableCheck.warning(store.resolve("mini-bert")));
    }
}
