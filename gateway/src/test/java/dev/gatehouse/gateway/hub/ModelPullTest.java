package dev.gatehouse.gateway.hub;

import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.LocalModel;
import dev.gatehouse.serving.testing.TestModelFolder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code models pull} against a fake Hub on loopback serving a real (tiny) Llama folder. */
class ModelPullTest {
    static final String REPO = "test-org/tiny-llama";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";
    static final String WEIGHTS = "model.safetensors";

    @TempDir
    Path tmp;
    Path source;
    Path store;
    FakeHub hub;
    StringWriter log = new StringWriter();

    @BeforeEach
    void setUp() throws IOException {
        source = TestModelFolder.llama().write(Files.createDirectories(tmp.resolve("source")));
        // what real repositories carry beside the safetensors, which a default pull must leave alone
        Files.writeString(source.resolve("README.md"), "# tiny llama\n");
        Files.write(source.resolve("pytorch_model.bin"), new byte[4096]);
        Files.createDirectories(source.resolve("onnx"));
        Files.write(source.resolve("onnx/model.onnx"), new byte[2048]);
        store = tmp.resolve("model-store");
        hub = new FakeHub().add(REPO, source, COMMIT, null);
    }

    @AfterEach
    void tearDown() {
        hub.close();
    }

    Path pull(String token, String revision, List<String> include, List<String> exclude, String name) throws IOException {
        Progress progress = new Progress(new PrintWriter(log, true), false);
        return new ModelPull(new HubClient(hub.url(), token), progress)
                .pull(new ModelPull.Request(REPO, revision, include, exclude, store, name));
    }

    Path pull() throws IOException {
        return pull(null, "main", List.of(), List.of(), null);
    }

    static Set<String> files(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString().replace('\\', '/'))
                    .collect(Collectors.toSet());
        }
    }

    @Test
    void pullsWhatServingNeedsAndTheModelLoads() throws IOException {
        Path folder = pull();

        assertEquals(store.resolve("test-org--tiny-llama"), folder);
        assertEquals(Set.of("config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", WEIGHTS, Manifest.FILE_NAME), files(folder));
        for (String f : files(folder)) {
            if (!f.equals(Manifest.FILE_NAME)) {
                assertEquals(-1, Files.mismatch(source.resolve(f), folder.resolve(f)), f);
            }
        }
        assertFalse(Files.exists(store.resolve(ModelPull.PARTIAL_DIR).resolve("test-org--tiny-llama")));
        try (LocalModel model = LocalModel.load(folder, DeviceChoice.CPU)) {
            assertNotNull(model);
        }
        assertTrue(log.toString().contains("downloaded " + WEIGHTS), log.toString());
    }

    @Test
    void manifestRecordsRepoCommitAndEveryFileHash() throws IOException {
        Path folder = pull();

        Manifest m = Manifest.read(folder);
        assertEquals(REPO, m.repo());
        assertEquals(COMMIT, m.commit());
        assertEquals("main", m.revision());
        assertNotNull(m.downloadedAt());
        assertEquals(6, m.files().size());
        for (Manifest.Entry e : m.files()) {
            byte[] b = Files.readAllBytes(source.resolve(e.path()));
            assertEquals(b.length, e.size(), e.path());
            assertEquals(FakeHub.sha256(b), e.sha256(), e.path());
        }
    }

    @Test
    void lfsFilesComeThroughTheRedirectWithoutTheTokenAndDownloadsArePinnedToTheCommit() throws IOException {
        hub.add(REPO, source, COMMIT, "hf_secret");
        pull("hf_secret", "main", List.of(), List.of(), null);

        assertTrue(hub.seen.stream().anyMatch(s -> s.path().startsWith("/lfs-storage/") && s.authorization() == null),
                "the token must not go to LFS storage: " + hub.seen);
        assertTrue(hub.seen.stream().filter(s -> s.path().contains("/resolve/"))
                .allMatch(s -> s.path().startsWith("/" + REPO + "/resolve/" + COMMIT + "/")), hub.seen.toString());
    }

    @Test
    void resumesAfterTheConnectionIsCut() throws IOException {
        hub.cutFirstDownload(WEIGHTS);
        Path folder = pull();

        assertEquals(-1, Files.mismatch(source.resolve(WEIGHTS), folder.resolve(WEIGHTS)));
        List<FakeHub.Seen> gets = hub.seen.stream().filter(s -> s.path().startsWith("/lfs-storage/")).toList();
        assertEquals(2, gets.size(), gets.toString());
        // The fake sends half the file before dropping the connection; a reset may discard some of it in
        // flight, so the resume starts where the client's bytes end: after 0, at most at the half.
        long half = Files.size(source.resolve(WEIGHTS)) / 2;
        String range = gets.get(1).range();
        assertTrue(range != null && range.matches("bytes=\\d+-"), "a ranged resume, not a restart: " + range);
        long resumedAt = Long.parseLong(range.substring("bytes=".length(), range.length() - 1));
        assertTrue(resumedAt > 0 && resumedAt <= half, "resumed at " + resumedAt + " of a cut at " + half);
        assertTrue(log.toString().contains("connection lost on " + WEIGHTS), log.toString());
    }

    @Test
    void anInterruptedPullContinuesWhereItStoppedAndSkipsCompleteFiles() throws IOException {
        Path partial = Files.createDirectories(store.resolve(".partial/test-org--tiny-llama"));
        byte[] weights = Files.readAllBytes(source.resolve(WEIGHTS));
        Files.write(partial.resolve(WEIGHTS), java.util.Arrays.copyOf(weights, 1000));
        Files.copy(source.resolve("tokenizer.json"), partial.resolve("tokenizer.json"));

        Path folder = pull();

        assertEquals(-1, Files.mismatch(source.resolve(WEIGHTS), folder.resolve(WEIGHTS)));
        assertTrue(hub.seen.stream().anyMatch(s -> "bytes=1000-".equals(s.range())), hub.seen.toString());
        assertTrue(hub.seen.stream().noneMatch(s -> s.path().endsWith("/tokenizer.json")), "complete file fetched again");
        assertTrue(log.toString().contains("already complete tokenizer.json"), log.toString());
    }

    @Test
    void aPullThatCannotFitOnTheDiskIsRefusedBeforeTheFirstByte() {
        hub.advertiseSize(WEIGHTS, Long.MAX_VALUE / 4); // no disk has this much free

        HubException e = assertThrows(HubException.class, this::pull);

        assertTrue(e.getMessage().contains("not enough disk space in " + store), e.getMessage());
        assertTrue(hub.seen.stream().noneMatch(s -> s.path().contains("/resolve/")), "nothing downloaded: " + hub.seen);
        assertFalse(Files.exists(store.resolve("test-org--tiny-llama")));
    }

    @Test
    void filesLeftByAnEarlierPullWithAnotherSelectionAreNotKept() throws IOException {
        Path partial = Files.createDirectories(store.resolve(".partial/test-org--tiny-llama/onnx"));
        Files.write(partial.resolve("model.onnx"), new byte[100]); // from an interrupted pull with --include onnx/*

        Path folder = pull();

        assertFalse(Files.exists(folder.resolve("onnx/model.onnx")), "a file the manifest does not list");
    }

    @Test
    void aCorruptedFileIsDeletedAndThePullFails() throws IOException {
        hub.corrupt(WEIGHTS);

        HubException e = assertThrows(HubException.class, this::pull);

        assertTrue(e.getMessage().contains("corrupted download: " + WEIGHTS + " has sha256"), e.getMessage());
        assertFalse(Files.exists(store.resolve(".partial/test-org--tiny-llama").resolve(WEIGHTS)));
        assertFalse(Files.exists(store.resolve("test-org--tiny-llama")), "no model folder for a failed pull");
    }

    @Test
    void aGatedRepoNeedsTheToken() throws IOException {
        hub.add(REPO, source, COMMIT, "hf_right");

        HubException without = assertThrows(HubException.class, this::pull);
        assertTrue(without.getMessage().contains("accept the licence at " + hub.url() + "/" + REPO + " and set HF_TOKEN"),
                without.getMessage());
        HubException wrong = assertThrows(HubException.class, () -> pull("hf_wrong", "main", List.of(), List.of(), null));
        assertTrue(wrong.getMessage().contains("accept the licence"), wrong.getMessage());
        assertFalse(Files.exists(store.resolve("test-org--tiny-llama")));

        Path folder = pull("hf_right", "main", List.of(), List.of(), null);
        assertTrue(Files.isRegularFile(folder.resolve(WEIGHTS)));
    }

    @Test
    void includeAddsFilesAndExcludeDropsThem() throws IOException {
        Path folder = pull(null, "main", List.of("*.bin", "onnx/*"), List.of("tokenizer_config.json", "special_*"), "tiny");

        assertEquals(store.resolve("tiny"), folder);
        assertEquals(Set.of("config.json", "generation_config.json", "tokenizer.json", WEIGHTS, "pytorch_model.bin",
                "onnx/model.onnx", Manifest.FILE_NAME), files(folder));
    }

    @Test
    void unknownRepositoryAndRevisionSaySo() {
        HubException repo = assertThrows(HubException.class, () -> new ModelPull(new HubClient(hub.url(), null),
                new Progress(new PrintWriter(log), false))
                .pull(new ModelPull.Request("test-org/nope", "main", List.of(), List.of(), store, null)));
        assertTrue(repo.getMessage().contains("repository test-org/nope not found at " + hub.url()), repo.getMessage());

        HubException rev = assertThrows(HubException.class, () -> pull(null, "v9", List.of(), List.of(), null));
        assertTrue(rev.getMessage().contains("revision 'v9' not found in " + REPO), rev.getMessage());
    }

    @Test
    void aPinnedCommitWorksAndPullingAgainIsANoOp() throws IOException {
        Path folder = pull(null, COMMIT, List.of(), List.of(), null);
        int requests = hub.seen.size();

        assertEquals(folder, pull());
        assertTrue(log.toString().contains("already up to date"), log.toString());
        assertTrue(hub.seen.subList(requests, hub.seen.size()).stream().noneMatch(s -> s.path().contains("/resolve/")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"../evil.json", "onnx/../../evil.json", "/tmp/evil.json", "onnx\\..\\evil.json",
            "C:/evil.json", "C:evil.json", "onnx//evil.json", "./evil.json", "onnx/.."})
    void aListedPathOutsideTheModelFolderFailsThePullNamingIt(String path) throws IOException {
        hub.list(REPO, path, "{}".getBytes());

        HubException e = assertThrows(HubException.class,
                () -> pull(null, "main", List.of("*.json", "*evil*", "**"), List.of(), null));
        assertTrue(e.getMessage().contains("'" + path + "'") && e.getMessage().contains("not a path inside the model folder"),
                e.getMessage());
        try (Stream<Path> walk = Files.walk(tmp)) {
            assertTrue(walk.noneMatch(p -> p.getFileName().toString().contains("evil")), "nothing written for " + path);
        }
        assertFalse(Files.exists(store.resolve("test-org--tiny-llama")));
    }

    @Test
    void theTokenGoesOnlyToTheHubNotToAnotherHostInANextPageLinkOrARedirect() throws IOException {
        hub.add(REPO, source, COMMIT, "hf_secret");
        hub.pageListingOnStorageHost();
        pull("hf_secret", "main", List.of(), List.of(), null);

        List<FakeHub.Seen> elsewhere = hub.seen.stream().filter(FakeHub.Seen::onStorage).toList();
        assertTrue(elsewhere.stream().anyMatch(s -> s.path().contains("/tree/")), "a page came from the other host: " + elsewhere);
        assertTrue(elsewhere.stream().anyMatch(s -> s.path().startsWith("/lfs-storage/")), elsewhere.toString());
        assertTrue(elsewhere.stream().allMatch(s -> s.authorization() == null), "the token left the Hub: " + elsewhere);
        assertTrue(hub.seen.stream().filter(s -> s.path().contains("/resolve/")).allMatch(s -> "Bearer hf_secret".equals(s.authorization())));
    }

    @Test
    @Timeout(60) // without a read timeout the download waits for the silent server forever
    void aDownloadThatGoesSilentResumesAfterTheReadTimeout() throws IOException {
        hub.stallFirstDownload(WEIGHTS);
        Progress progress = new Progress(new PrintWriter(log, true), false);
        Path folder = new ModelPull(new HubClient(hub.url(), null, Duration.ofMillis(500)), progress)
                .pull(new ModelPull.Request(REPO, "main", List.of(), List.of(), store, null));

        assertEquals(-1, Files.mismatch(source.resolve(WEIGHTS), folder.resolve(WEIGHTS)));
        assertTrue(log.toString().contains("connection lost on " + WEIGHTS + " (no data for 500 ms); resuming"), log.toString());
        List<FakeHub.Seen> gets = hub.seen.stream().filter(s -> s.path().startsWith("/lfs-storage/")).toList();
        assertTrue(gets.size() == 2 && gets.get(1).range() != null, "a ranged resume: " + gets);
    }

    @Test
    @Timeout(60)
    void aHubThatNeverAnswersTimesOutNamingTheSetting() {
        hub.silenceApi();
        HubException e = assertThrows(HubException.class, () -> new ModelPull(new HubClient(hub.url(), null, Duration.ofMillis(500)),
                new Progress(new PrintWriter(log), false)).pull(new ModelPull.Request(REPO, "main", List.of(), List.of(), store, null)));
        assertTrue(e.getMessage().contains("sent no answer within 500 ms (HF_HUB_DOWNLOAD_TIMEOUT)"), e.getMessage());
    }

    @Test
    void theTimeoutSettingIsSecondsAndABadOneIsRefused() {
        assertEquals(HubClient.DEFAULT_TIMEOUT, HubClient.timeout(null));
        assertEquals(Duration.ofMillis(2500), HubClient.timeout("2.5"));
        HubException e = assertThrows(HubException.class, () -> HubClient.timeout("soon"));
        assertTrue(e.getMessage().contains("HF_HUB_DOWNLOAD_TIMEOUT"), e.getMessage());
        assertThrows(HubException.class, () -> HubClient.timeout("0"));
    }

    @Test
    void anUnreachableHubSaysSo() {
        HubException e = assertThrows(HubException.class, () -> new ModelPull(new HubClient("http://127.0.0.1:1", null),
                new Progress(new PrintWriter(log), false))
                .pull(new ModelPull.Request(REPO, "main", List.of(), List.of(), store, null)));
        assertTrue(e.getMessage().startsWith("cannot reach http://127.0.0.1:1"), e.getMessage());
    }
}
