package dev.gatehouse.serving.text;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** On the real all-MiniLM-L6-v2 tokenizer.json (WordPiece; [CLS]=101, [SEP]=102; truncation and padding at 128). */
class TokenizerTest {

    private static final int CLS = 101;
    private static final int SEP = 102;

    @TempDir
    static Path dir;
    private static Tokenizer tok;

    @BeforeAll
    static void load() throws IOException {
        tok = Tokenizer.load(TestTokenizers.miniLm(dir));
    }

    @AfterAll
    static void close() {
        tok.close();
    }

    @Test
    void roundTripsText() {
        String text = "hello world, this is a test.";
        int[] ids = tok.encode(text, false);
        assertEquals(text, tok.decode(ids, true));
        assertEquals("hello", tok.tokenText(ids[0]));
    }

    @Test
    void addsSpecialTokensOnlyWhenAsked() {
        int[] plain = tok.encode("hello world", false);
        int[] special = tok.encode("hello world", true);
        assertEquals(2, plain.length, "no padding to 128 either");
        assertArrayEquals(new int[] {CLS, plain[0], plain[1], SEP}, special);
        assertEquals("[CLS] hello world [SEP]", tok.decode(special, false));
        assertEquals("hello world", tok.decode(special, true));
        assertEquals("[CLS]", tok.tokenText(CLS));
    }

    @Test
    void longTextIsNotTruncated() {
        String text = IntStream.range(0, 600).mapToObj(i -> "word" + (i % 7 == 0 ? "." : ""))
                .collect(Collectors.joining(" "));
        int[] ids = tok.encode(text, true);
        assertTrue(ids.length > 600, "got only " + ids.length + " tokens");
        assertEquals(SEP, ids[ids.length - 1]);
        assertEquals(text, tok.decode(ids, true));
    }

    /** A rendered chat prompt holds special tokens as text; they must encode to their single ids. */
    @Test
    void specialTokenTextInAPromptEncodesToItsId(@TempDir Path a) throws IOException {
        try (Tokenizer bpe = Tokenizer.load(TestTokenizers.byteLevelBpe(a))) {
            int[] eos = bpe.encode("<|endoftext|>", false);
            assertEquals(1, eos.length);
            int[] ids = bpe.encode("hello<|endoftext|>", false);
            assertArrayEquals(new int[] {bpe.encode("hello", false)[0], eos[0]}, ids);
            assertEquals("hello", bpe.decode(ids, true));
            assertEquals("hello<|endoftext|>", bpe.decode(ids, false));
        }
    }

    @Test
    void missingTokenizerFileIsNamed(@TempDir Path empty) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(empty));
        assertTrue(e.getMessage().contains(empty.resolve("tokenizer.json").toString()), e.getMessage());
    }

    @Test
    void invalidTokenizerFileIsNamed(@TempDir Path bad) throws IOException {
        Files.writeString(bad.resolve("tokenizer.json"), "{\"model\": ");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Tokenizer.load(bad));
        assertTrue(e.getMessage().contains(bad.resolve("tokenizer.json").toString()), e.getMessage());
    }

    @Test
    void handWrittenTokenizersRoundTrip(@TempDir Path a, @TempDir Path b) throws IOException {
        String text = "Hello wörld café 😀!";
        try (Tokenizer bpe = Tokenizer.load(TestTokenizers.byteLevelBpe(a));
                Tokenizer sp = Tokenizer.load(TestTokenizers.sentencePiece(b))) {
            assertEquals(text, bpe.decode(bpe.encode(text, true), true));
            int[] ids = sp.encode(text, true);
            assertEquals(1, ids[0], "<s> added in front");
            assertNotEquals(1, sp.encode(text, false)[0]);
            assertEquals(text, sp.decode(ids, true));
        }
    }
}
