package dev.gatehouse.serving.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DetokenizerTest {

    private static final String TEXT = "Hello world! Hello wörld café 😀 the end é";

    /** Streams ids through a Detokenizer and returns each push's output, then the flush. */
    private static List<String> stream(Tokenizer tok, int[] ids) {
        Detokenizer detok = new Detokenizer(tok);
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(detok.push(id));
        }
        pieces.add(detok.flush());
        return pieces;
    }

    private static void assertStreamsLikeFullDecode(Tokenizer tok, int[] ids) {
        List<String> pieces = stream(tok, ids);
        assertEquals(tok.decode(ids, true), String.join("", pieces));
        for (String piece : pieces) {
            assertFalse(piece.contains("\uFFFD"), "half a character emitted in " + pieces);
        }
    }

    @Test
    void byteLevelBpeNeverEmitsHalfACharacter(@TempDir Path dir) throws IOException {
        try (Tokenizer tok = Tokenizer.load(TestTokenizers.byteLevelBpe(dir))) {
            int[] ids = tok.encode(TEXT, false);
            // The test only means something if some token is a partial character.
            assertTrue(Arrays.stream(ids).anyMatch(id -> tok.tokenText(id).contains("\uFFFD")));
            assertStreamsLikeFullDecode(tok, ids);
            assertEquals(TEXT, String.join("", stream(tok, ids)));
        }
    }

    @Test
    void sentencePieceKeepsSpacesBetweenWords(@TempDir Path dir) throws IOException {
        try (Tokenizer tok = Tokenizer.load(TestTokenizers.sentencePiece(dir))) {
            int[] ids = tok.encode(TEXT, false);
            // Decoding token by token loses the spaces ("▁world" alone decodes to "world").
            StringBuilder naive = new StringBuilder();
            Arrays.stream(ids).forEach(id -> naive.append(tok.decode(new int[] {id}, true)));
            assertNotEquals(TEXT, naive.toString());

            assertStreamsLikeFullDecode(tok, ids);
            assertEquals(TEXT, String.join("", stream(tok, ids)));
        }
    }

    @Test
    void specialTokensAreLeftOut(@TempDir Path dir) throws IOException {
        try (Tokenizer tok = Tokenizer.load(TestTokenizers.sentencePiece(dir))) {
            int[] text = tok.encode("Hello world", true); // starts with <s>
            int[] ids = Arrays.copyOf(text, text.length + 1);
            ids[text.length] = 2; // </s>
            assertEquals("Hello world", String.join("", stream(tok, ids)));
        }
    }

    @Test
    void emitsTextAsSoonAsACharacterCompletes(@TempDir Path dir) throws IOException {
        try (Tokenizer tok = Tokenizer.load(TestTokenizers.byteLevelBpe(dir))) {
            int[] ids = tok.encode("hello é", false); // hello, Ġ, Ã, ©
            assertEquals(4, ids.length);
            Detokenizer detok = new Detokenizer(tok);
            assertEquals("hello", detok.push(ids[0]));
            assertEquals(" ", detok.push(ids[1]));
            assertEquals("", detok.push(ids[2]), "first byte of é is held back");
            assertEquals("é", detok.push(ids[3]));
            assertEquals("", detok.flush());
        }
    }

    @Test
    void flushGivesUpAnUnfinishedCharacter(@TempDir Path dir) throws IOException {
        try (Tokenizer tok = Tokenizer.load(TestTokenizers.byteLevelBpe(dir))) {
            int[] ids = tok.encode("hello é", false);
            Detokenizer detok = new Detokenizer(tok);
            String out = detok.push(ids[0]) + detok.push(ids[1]) + detok.push(ids[2]);
            assertEquals("hello ", out);
            assertEquals("\uFFFD", detok.flush(), "generation stopped in the middle of é");
        }
    }
}
