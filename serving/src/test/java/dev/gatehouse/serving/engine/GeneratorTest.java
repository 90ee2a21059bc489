package dev.gatehouse.serving.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.serving.sample.SampledToken;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.ReferenceModel;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The generation loop as a user sees it: what text comes back, why it ended, how many tokens, and
 * what was streamed. One tiny Llama (vocab 256, "t17" is token 17) and a greedy reference run of it.
 */
class GeneratorTest {
    static final int RUN = 24;

    @TempDir
    static Path tmp;

    static TestModelFolder folder;
    static LocalModel model;
    static int[] prompt;
    /** The greedy continuation of {@link #prompt}, eos ignored, and its text. */
    static GenerationResult reference;
    /**
     * A step of the reference run where a fresh regular token appears, with no eos id (2, 4) before it:
     * making that token an eos id must end generation exactly there.
     */
    static int eosStep;

    @BeforeAll
    static void loadModel() throws IOException {
        folder = TestModelFolder.llama();
        model = LocalModel.load(folder.write(tmp.resolve("llama")), DeviceChoice.CPU);
        assertEquals(Set.of(2, 4), model.eosTokenIds());
        prompt = folder.randomTokens(8, 1);
        reference = generate(model, greedy(RUN).withIgnoreEos(true), null);
        assertEquals(RUN, reference.tokenIds().length);
        int[] t = reference.tokenIds();
        eosStep = IntStream.range(2, RUN)
                .filter(k -> t[k] >= folder.firstRegularTokenId())
                .filter(k -> Arrays.stream(t, 0, k).noneMatch(id -> id == t[k] || id == 2 || id == 4))
                .findFirst().orElseThrow(() -> new AssertionError("no usable eos step in " + Arrays.toString(t)));
    }

    @AfterAll
    static void closeModel() {
        model.close();
    }

    // ------------------------------------------------------------------ bad requests

    @Test
    void emptyPrompt() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Generator(model).generate(new int[0], greedy(4), (d, t) -> {}));
        assertTrue(e.getMessage().contains("prompt"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void maxTokensNotPositive(int maxTokens) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Generator(model).generate(prompt, greedy(maxTokens), (d, t) -> {}));
        assertTrue(e.getMessage().contains("max_tokens"), e.getMessage());
    }

    /** An id the embedding has no row for must not reach PyTorch (an EngineException from index_select). */
    @ParameterizedTest
    @ValueSource(ints = {256, -1, 100_000})
    void promptTokenOutsideTheVocabulary(int id) {
        int[] bad = prompt.clone();
        bad[3] = id;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Generator(model).generate(bad, greedy(4), (d, t) -> {}));
        assertTrue(e.getMessage().contains("prompt") && e.getMessage().contains(Integer.toString(id))
                && e.getMessage().contains("256"), e.getMessage());
    }

    @Test
    void promptAsLongAsTheContext() throws IOException {
        for (TestModelFolder f : List.of(TestModelFolder.llama().maxPositions(16), TestModelFolder.gpt2().maxPositions(16))) {
            try (LocalModel small = LocalModel.load(f.write(tmp.resolve("ctx16-" + f.architecture().modelType)), DeviceChoice.CPU)) {
                for (int length : new int[] {16, 17, 40}) {
                    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                            () -> new Generator(small).generate(f.randomTokens(length, 3), greedy(4), (d, t) -> {}));
                    assertTrue(e.getMessage().contains("prompt") && e.getMessage().contains(length + " tokens")
                            && e.getMessage().contains("16"), e.getMessage());
                }
                // one position left: exactly one token
                GenerationResult r = generate(small, greedy(4).withIgnoreEos(true), f.randomTokens(15, 3));
                assertEquals(1, r.tokenIds().length);
                assertEquals(FinishReason.LENGTH, r.finishReason());
            }
        }
    }

    /** A prompt longer than one prefill chunk (512) continues as the float64 reference model does. */
    @Test
    void longPromptIsPrefilledInChunks() {
        int[] longPrompt = folder.randomTokens(Generator.PREFILL_CHUNK + 90, 5);
        int[] expected = ReferenceModel.load(tmp.resolve("llama")).greedy(longPrompt, 6);
        GenerationResult r = generate(model, greedy(6).withIgnoreEos(true), longPrompt);
        assertArrayEquals(expected, r.tokenIds());
    }

    // ------------------------------------------------------------------ determinism

    @Test
    void greedyIsDeterministic() throws IOException {
        GenerationResult again = generate(model, greedy(RUN).withIgnoreEos(true), null);
        assertArrayEquals(reference.tokenIds(), again.tokenIds());
        assertEquals(reference.text(), again.text());
        // and across a fresh load of the same folder
        try (LocalModel reloaded = LocalModel.load(tmp.resolve("llama"), DeviceChoice.CPU)) {
            assertArrayEquals(reference.tokenIds(), generate(reloaded, greedy(RUN).withIgnoreEos(true), null).tokenIds());
        }
    }

    @Test
    void seededSamplingRepeatsAndDifferentSeedsDiffer() {
        SamplingParams seeded = SamplingParams.defaults().withTemperature(1f).withMaxTokens(16).withIgnoreEos(true);
        GenerationResult a = generate(model, seeded.withSeed(42L), null);
        GenerationResult b = generate(model, seeded.withSeed(42L), null);
        GenerationResult c = generate(model, seeded.withSeed(7L), null);
        assertArrayEquals(a.tokenIds(), b.tokenIds());
        assertEquals(a.text(), b.text());
        assertFalse(Arrays.equals(a.tokenIds(), c.tokenIds()), "seed 7 repeated seed 42: " + Arrays.toString(a.tokenIds()));
        // the model is not so peaked that sampling is greedy in disguise
        assertFalse(Arrays.equals(Arrays.copyOf(reference.tokenIds(), 16), a.tokenIds()), "sampling gave the greedy tokens");
    }

    // ------------------------------------------------------------------ why generation ends

    @Test
    void maxTokensGivesLengthWithExactlyThatManyTokens() {
        for (int n : new int[] {1, 7, RUN}) {
            int[] expected = Arrays.copyOf(reference.tokenIds(), n);
            assertTrue(Arrays.stream(expected).noneMatch(model.eosTokenIds()::contains), "an eos id would end it early");
            List<String> deltas = new ArrayList<>();
            GenerationResult r = new Generator(model).generate(prompt, greedy(n), (d, t) -> deltas.add(d));
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertArrayEquals(expected, r.tokenIds());
            assertEquals(decode(n), r.text());
            assertEquals(r.text(), String.join("", deltas));
            assertArrayEquals(prompt, r.promptTokenIds());
        }
    }

    /** An eos id ends generation with STOP; it is counted and streamed as a token but never becomes text. */
    @Test
    void eosStopsWithStop() throws IOException {
        int eos = reference.tokenIds()[eosStep];
        try (LocalModel m = LocalModel.load(TestModelFolder.llama().eosTokenIds(eos).write(tmp.resolve("eos-config")),
                DeviceChoice.CPU)) {
            assertTrue(m.eosTokenIds().contains(eos));
            Stream s = stream(m, greedy(RUN));
            assertEquals(FinishReason.STOP, s.result.finishReason());
            assertArrayEquals(Arrays.copyOf(reference.tokenIds(), eosStep + 1), s.result.tokenIds());
            assertEquals(decode(eosStep), s.result.text());
            assertFalse(s.result.text().endsWith(folder.tokenText(eos)), s.result.text());
            assertTrue(decode(eosStep + 1).length() > decode(eosStep).length(), "the eos token has text of its own");
            assertEquals(s.result.text(), s.joined());
            assertEquals(eos, s.tokenIds().get(s.tokenIds().size() - 1), "the eos token ends the stream");
            assertEquals("", s.deltas.get(s.deltas.size() - 1), "the eos token carries no text");

            // ignore_eos runs on through it
            GenerationResult through = generate(m, greedy(RUN).withIgnoreEos(true), null);
            assertArrayEquals(reference.tokenIds(), through.tokenIds());
            assertEquals(FinishReason.LENGTH, through.finishReason());
        }
    }

    /** An eos id as the very first token: STOP, one token, no text. */
    @Test
    void eosAsTheFirstToken() throws IOException {
        int first = reference.tokenIds()[0];
        try (LocalModel m = LocalModel.load(TestModelFolder.llama().eosTokenIds(first).write(tmp.resolve("eos-first")),
                DeviceChoice.CPU)) {
            Stream s = stream(m, greedy(RUN));
            assertEquals(FinishReason.STOP, s.result.finishReason());
            assertArrayEquals(new int[] {first}, s.result.tokenIds());
            assertEquals("", s.result.text());
            assertEquals("", s.joined());
        }
    }

    /** generation_config.json's eos list counts even when config.json names other ids (Llama 3 style). */
    @Test
    void generationConfigEosListIsHonoured() throws IOException {
        int eos = reference.tokenIds()[eosStep];
        Path dir = TestModelFolder.llama().eosTokenIds(2).generationEosTokenIds(4, eos).write(tmp.resolve("eos-generation"));
        try (LocalModel m = LocalModel.load(dir, DeviceChoice.CPU)) {
            GenerationResult r = generate(m, greedy(RUN), null);
            assertEquals(FinishReason.STOP, r.finishReason());
            assertArrayEquals(Arrays.copyOf(reference.tokenIds(), eosStep + 1), r.tokenIds());
            assertEquals(decode(eosStep), r.text());
        }
        Files.delete(dir.resolve("generation_config.json"));
        try (LocalModel m = LocalModel.load(dir, DeviceChoice.CPU)) {
            assertFalse(m.eosTokenIds().contains(eos));
            GenerationResult r = generate(m, greedy(eosStep + 3), null);
            assertArrayEquals(Arrays.copyOf(reference.tokenIds(), eosStep + 3), r.tokenIds());
        }
    }

    /** A small context ends generation with LENGTH at the last position, with the same tokens a long context gives. */
    @Test
    void contextLimitEndsWithLength() throws IOException {
        try (LocalModel small = LocalModel.load(TestModelFolder.llama().maxPositions(16).write(tmp.resolve("llama-16")),
                DeviceChoice.CPU)) {
            for (SamplingParams p : List.of(greedy(100).withIgnoreEos(true), SamplingParams.greedy().withIgnoreEos(true))) {
                GenerationResult r = generate(small, p, null);
                assertEquals(FinishReason.LENGTH, r.finishReason());
                assertArrayEquals(Arrays.copyOf(reference.tokenIds(), 16 - prompt.length), r.tokenIds());
                assertEquals(decode(16 - prompt.length), r.text());
            }
        }
        // GPT-2's learned positions end at n_positions: the last one must be usable, none past it asked for
        TestModelFolder gpt2 = TestModelFolder.gpt2().maxPositions(16);
        try (LocalModel small = LocalModel.load(gpt2.write(tmp.resolve("gpt2-16")), DeviceChoice.CPU)) {
            GenerationResult r = new Generator(small).generate(gpt2.randomTokens(5, 2), greedy(100).withIgnoreEos(true), (d, t) -> {});
            assertEquals(FinishReason.LENGTH, r.finishReason());
            assertEquals(11, r.tokenIds().length);
        }
    }

    // ------------------------------------------------------------------ stop strings

    /** A stop string spanning two tokens' text: the text ends right before it, STOP, nothing of it streamed. */
    @Test
    void stopStringEndsTheTextRightBeforeIt() {
        String text = reference.text();
        int boundary = decode(6).length(); // between the 6th and 7th tokens' text
        String stop = text.substring(boundary - 2, boundary + 3);
        int at = text.indexOf(stop);
        Stream s = stream(model, greedy(RUN).withIgnoreEos(true).withStop(List.of("never-generated", stop)));
        assertEquals(FinishReason.STOP, s.result.finishReason());
        assertEquals(text.substring(0, at), s.result.text());
        assertFalse(s.joined().contains(stop));
        assertEquals(s.result.text(), s.joined());
        // generation ended on the token that completed the stop string
        int tokens = IntStream.rangeClosed(1, RUN).filter(n -> decode(n).length() >= at + stop.length()).findFirst().orElseThrow();
        assertArrayEquals(Arrays.copyOf(reference.tokenIds(), tokens), s.result.tokenIds());
        assertEquals(s.tokenIds(), boxed(s.result.tokenIds()));
    }

    @Test
    void stopStringAtTheVeryStart() {
        String first = decode(1);
        GenerationResult r = generate(model, greedy(RUN).withIgnoreEos(true).withStop(List.of(first)), null);
        assertEquals(FinishReason.STOP, r.finishReason());
        assertEquals("", r.text());
        assertArrayEquals(new int[] {reference.tokenIds()[0]}, r.tokenIds());
    }

    @Test
    void earliestOfSeveralStopStringsWins() {
        String text = reference.text();
        String late = text.substring(decode(10).length(), decode(11).length());
        String early = text.substring(decode(3).length(), decode(4).length());
        GenerationResult r = generate(model, greedy(RUN).withIgnoreEos(true).withStop(List.of(late, early)), null);
        assertEquals(FinishReason.STOP, r.finishReason());
        assertEquals(text.substring(0, text.indexOf(early)), r.text());
    }

    /** A stop string that only begins at the end of the text is held back, then released when generation ends. */
    @Test
    void partlyMatchedStopStringIsReleasedAtTheEnd() {
        String text = reference.text();
        String stop = text.substring(text.length() - 3) + " and more";
        Stream s = stream(model, greedy(RUN).withIgnoreEos(true).withStop(List.of(stop)));
        assertEquals(FinishReason.LENGTH, s.result.finishReason());
        assertEquals(text, s.result.text());
        assertEquals(text, s.joined());
        assertEquals(RUN, s.tokens.size(), "the held-back tail comes with the last token, not an extra event");
        assertTrue(s.deltas.get(s.deltas.size() - 1).endsWith(text.substring(text.length() - 3)));
    }

    @Test
    void streamedDeltasMakeTheText() {
        Stream s = stream(model, greedy(RUN).withIgnoreEos(true));
        assertEquals(reference.text(), s.joined());
        assertEquals(boxed(reference.tokenIds()), s.tokenIds());
        assertEquals(decode(RUN), s.result.text());
    }

    // ------------------------------------------------------------------ helpers

    static SamplingParams greedy(int maxTokens) {
        return SamplingParams.greedy().withMaxTokens(maxTokens);
    }

    /** Generates from {@link #prompt} unless another prompt is given. */
    static GenerationResult generate(LocalModel m, SamplingParams params, int[] otherPrompt) {
        return new Generator(m).generate(otherPrompt == null ? prompt : otherPrompt, params, (d, t) -> {});
    }

    /** The text of the first n reference tokens. */
    /** The first n generated tokens' text as a continuation of the prompt (its last 5 tokens), as it is streamed. */
    static String decode(int n) {
        int[] context = Arrays.copyOfRange(prompt, Math.max(0, prompt.length - 5), prompt.length);
        int[] all = Arrays.copyOf(context, context.length + n);
        System.arraycopy(reference.tokenIds(), 0, all, context.length, n);
        return model.tokenizer().decode(all, true).substring(model.tokenizer().decode(context, true).length());
    }

    static List<Integer> boxed(int[] ids) {
        return Arrays.stream(ids).boxed().toList();
    }

    /** What a TokenListener saw. */
    record Stream(GenerationResult result, List<String> deltas, List<SampledToken> tokens) {
        String joined() {
            return String.join("", deltas);
        }

        List<Integer> tokenIds() {
            return tokens.stream().map(SampledToken::tokenId).toList();
        }
    }

    static Stream stream(LocalModel m, SamplingParams params) {
        List<String> deltas = new ArrayList<>();
        List<SampledToken> tokens = new ArrayList<>();
        GenerationResult r = new Generator(m).generate(prompt, params, (d, t) -> {
            deltas.add(d);
            tokens.add(t);
        });
        return new Stream(r, deltas, tokens);
    }
}
