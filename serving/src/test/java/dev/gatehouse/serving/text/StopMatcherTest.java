package dev.gatehouse.serving.text;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class StopMatcherTest {

    private static StopMatcher.Result emit(String text) {
        return new StopMatcher.Result(text, false);
    }

    private static StopMatcher.Result stop(String text) {
        return new StopMatcher.Result(text, true);
    }

    @Test
    void noStopsPassesEverythingThrough() {
        StopMatcher m = new StopMatcher(List.of());
        assertEquals(emit("Hello"), m.push("Hello"));
        assertEquals("", m.flush());
        assertEquals(emit("x"), new StopMatcher(null).push("x"));
    }

    @Test
    void saysWhichStopEndedTheText() {
        StopMatcher m = new StopMatcher(List.of("\n\nUser:", "END", "EN"));
        assertEquals(emit("Hi "), m.push("Hi E"));
        assertNull(m.matched(), "no stop yet");
        assertEquals(stop(""), m.push("ND."));
        assertEquals("END", m.matched(), "the longest stop starting where the first match does");
        StopMatcher later = new StopMatcher(List.of("x", "\n\nUser:"));
        later.push("a\n\nUser: x");
        assertEquals("\n\nUser:", later.matched(), "the stop that occurs first");
    }

    @Test
    void stopInsideOneDelta() {
        StopMatcher m = new StopMatcher(List.of("END"));
        assertEquals(stop("The "), m.push("The END is near"));
        assertEquals(stop(""), m.push("more"), "nothing after a stop");
        assertEquals("", m.flush());
    }

    @Test
    void stopSplitAcrossDeltas() {
        StopMatcher m = new StopMatcher(List.of("</answer>"));
        assertEquals(emit("42 "), m.push("42 </"));
        assertEquals(emit(""), m.push("ans"));
        assertEquals(stop(""), m.push("wer> trailing"));
    }

    @Test
    void partialMatchThatIsNotAStopIsEmitted() {
        StopMatcher m = new StopMatcher(List.of("Observation:"));
        assertEquals(emit("I "), m.push("I Obs"));
        assertEquals(emit("Obsolete"), m.push("olete"));
        assertEquals(emit("ly "), m.push("ly O"));
        assertEquals("O", m.flush(), "held text comes out at the end");
    }

    @Test
    void multipleStopsEarliestWins() {
        StopMatcher m = new StopMatcher(List.of("\n\nUser:", "###"));
        assertEquals(emit("a"), m.push("a\n"));
        assertEquals(stop("\nb"), m.push("b###\n\nUser:"), "the held newline comes out before the stop");

        m = new StopMatcher(List.of("abcd", "bc"));
        assertEquals(stop("a"), m.push("abc"), "the shorter stop completes first");
    }

    @Test
    void emptyStopStringsAreIgnored() {
        StopMatcher m = new StopMatcher(List.of("", "stop"));
        assertEquals(emit("go on "), m.push("go on st"));
        assertEquals(stop("go on "), new StopMatcher(List.of("", "stop")).push("go on stop"));
    }

    @Test
    void unicodeAcrossDeltas() {
        StopMatcher m = new StopMatcher(List.of("😀!"));
        assertEquals(emit("héllo "), m.push("héllo 😀"));
        assertEquals(stop(""), m.push("!"));
    }
}
