package dev.gatehouse.serving.constrain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The byte-level parser on whole documents and on prefixes: what it lets through and what it stops. */
class ParseStateTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Grammar schema(String json) throws Exception {
        return SchemaCompiler.compile(JSON.readTree(json));
    }

    /** The state after {@code text}, or null when some byte of it is refused. */
    private static ParseState feed(Grammar g, String text) {
        ParseState s = ParseState.start(g);
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            s = s.advance(b & 0xff);
            if (s == null) {
                return null;
            }
        }
        return s;
    }

    private static boolean complete(Grammar g, String text) {
        ParseState s = feed(g, text);
        return s != null && s.accepting();
    }

    private static boolean prefix(Grammar g, String text) {
        return feed(g, text) != null;
    }

    @Test
    void anyObjectTakesNestedJsonAndNothingAfterIt() {
        Grammar g = Grammar.ANY_OBJECT;
        String doc = "{\"a\": [1, -2.5e3, true, null, {\"b\": \"x\\n\\u00e9\"}], \"c\": {}}";
        assertTrue(complete(g, doc));
        assertTrue(feed(g, doc).finished());
        assertFalse(prefix(g, doc + " "), "nothing may follow a complete document");
        assertFalse(prefix(g, "[1]"), "json_object is an object");
        assertFalse(prefix(g, "{\"a\": 01}"), "no leading zeros");
        assertFalse(prefix(g, "{\"a\": \"tab\there\"}"), "a raw control character must be escaped");
        assertFalse(prefix(g, "{\"a\": \"\\x\"}"), "no such escape");
        assertFalse(prefix(g, "{\"a\": \"\\ud800\"}"), "no lone surrogate escapes");
        assertFalse(complete(g, "{\"a\": 1"));
    }

    @Test
    void whitespaceBetweenTokensIsBounded() {
        Grammar g = Grammar.ANY_OBJECT;
        assertTrue(prefix(g, "{" + " ".repeat(ParseState.MAX_WHITESPACE)));
        assertFalse(prefix(g, "{" + " ".repeat(ParseState.MAX_WHITESPACE + 1)));
        assertTrue(complete(g, "\n{\n  \"a\" : 1\n}"));
    }

    @Test
    void nestingIsBounded() {
        String deep = "{\"a\": " + "[".repeat(ParseState.MAX_DEPTH);
        assertFalse(prefix(Grammar.ANY_OBJECT, deep));
    }

    @Test
    void utf8IsCheckedByteByByte() {
        Grammar g = Grammar.ANY_OBJECT;
        assertTrue(complete(g, "{\"k\": \"日本 😀 é\"}"));
        ParseState s = feed(g, "{\"k\": \"");
        assertEquals(null, s.advance(0x80), "a continuation byte cannot start a character");
        assertEquals(null, s.advance(0xC0), "an overlong lead byte");
        ParseState lead = s.advance(0xE6);
        assertEquals(null, lead.advance('"'), "a string cannot end inside a character");
        assertTrue(lead.advance(0x97) != null);
    }

    @Test
    void objectKeysFollowTheSchemaInOrderAndRequiredOnesCannotBeLeftOut() throws Exception {
        Grammar g = schema("""
                {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                 "nick": {"type": "string"}}, "required": ["name", "age"], "additionalProperties": false}""");
        assertTrue(complete(g, "{\"name\": \"Ann\", \"age\": 3}"));
        assertTrue(complete(g, "{\"name\": \"Ann\", \"age\": 3, \"nick\": \"A\"}"));
        assertFalse(prefix(g, "{\"age\""), "name comes first");
        assertFalse(prefix(g, "{\"name\": \"Ann\"}"), "age is required");
        assertFalse(prefix(g, "{\"name\": \"Ann\", \"other\""), "no other keys");
        assertFalse(prefix(g, "{\"name\": \"Ann\", \"age\": 3.5"), "an integer has no fraction");
    }

    @Test
    void optionalPropertiesMayBeSkipped() throws Exception {
        Grammar g = schema("""
                {"properties": {"a": {"type": "boolean"}, "b": {"type": "null"}, "c": {"type": "boolean"}}, "required": ["c"]}""");
        assertTrue(complete(g, "{\"c\": true}"));
        assertTrue(complete(g, "{\"b\": null, \"c\": false}"));
        assertFalse(prefix(g, "{}"));
    }

    @Test
    void enumsConstsAndLiteralsThatStartOneAnother() throws Exception {
        Grammar g = schema("{\"enum\": [\"red\", \"green\", 1, 12, null]}");
        for (String ok : new String[] {"\"red\"", "\"green\"", "1", "12", "null"}) {
            assertTrue(complete(g, ok), ok);
        }
        assertFalse(prefix(g, "\"blue"));
        assertFalse(prefix(g, "123"));
        assertTrue(complete(schema("{\"const\": \"x\\\"y\"}"), "\"x\\\"y\""));
    }

    @Test
    void stringLengthsCountCharactersNotBytes() throws Exception {
        Grammar g = schema("{\"type\": \"string\", \"minLength\": 2, \"maxLength\": 3}");
        assertFalse(complete(g, "\"a\""));
        assertTrue(complete(g, "\"ab\""));
        assertTrue(complete(g, "\"日本語\""));
        assertTrue(complete(g, "\"a\\nb\""));
        assertFalse(prefix(g, "\"abcd"));
    }

    @Test
    void numbersStayWithinTheirBounds() throws Exception {
        Grammar g = schema("{\"type\": \"integer\", \"minimum\": 10, \"maximum\": 200}");
        assertTrue(complete(g, "10"));
        assertTrue(complete(g, "200"));
        assertFalse(prefix(g, "201"));
        assertFalse(prefix(g, "-"));
        assertFalse(complete(g, "9"));
        assertTrue(prefix(g, "2"), "2 may become 20..200");
        assertFalse(prefix(g, "3000"));
        Grammar n = schema("{\"type\": \"number\", \"minimum\": -1.5, \"maximum\": 0.25}");
        assertTrue(complete(n, "-1.5"));
        assertTrue(complete(n, "0.25"));
        assertFalse(prefix(n, "0.26"));
        assertFalse(prefix(n, "-1.6"));
        assertFalse(prefix(n, "1"));
    }

    @Test
    void unboundedNumbersAreStillCappedInDigits() {
        Grammar g = Grammar.ANY_OBJECT;
        assertTrue(prefix(g, "{\"n\": " + "9".repeat(NumberText.MAX_INT_DIGITS)));
        assertFalse(prefix(g, "{\"n\": " + "9".repeat(NumberText.MAX_INT_DIGITS + 1)));
    }

    @Test
    void formats() throws Exception {
        Grammar date = schema("{\"type\": \"string\", \"format\": \"date\"}");
        assertTrue(complete(date, "\"2024-01-31\""));
        assertFalse(prefix(date, "\"2024-02-30"), "no 30 February");
        assertFalse(prefix(date, "\"2024-13"));
        Grammar dateTime = schema("{\"type\": \"string\", \"format\": \"date-time\"}");
        assertTrue(complete(dateTime, "\"2024-01-31T23:59:59.123+02:00\""));
        assertTrue(complete(dateTime, "\"2024-01-31T00:00:00Z\""));
        assertFalse(prefix(dateTime, "\"2024-01-31T24"));
        Grammar uuid = schema("{\"type\": \"string\", \"format\": \"uuid\"}");
        assertTrue(complete(uuid, "\"123e4567-e89b-12d3-a456-426614174000\""));
        assertFalse(prefix(uuid, "\"123g"));
        Grammar email = schema("{\"type\": \"string\", \"format\": \"email\"}");
        assertTrue(complete(email, "\"ann.lee+x@mail.example.org\""));
        assertFalse(complete(email, "\"ann@localhost\""));
        assertFalse(prefix(email, "\"ann@@"));
    }

    @Test
    void anyOfNullableTypesAndRecursiveRefs() throws Exception {
        Grammar g = schema("""
                {"$defs": {"node": {"type": "object", "properties": {"v": {"type": ["integer", "null"]},
                  "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}, "maxItems": 2}},
                  "required": ["v", "kids"], "additionalProperties": false}},
                 "anyOf": [{"$ref": "#/$defs/node"}, {"type": "string", "enum": ["leaf"]}]}""");
        assertTrue(complete(g, "{\"v\": 1, \"kids\": [{\"v\": null, \"kids\": []}, {\"v\": 2, \"kids\": []}]}"));
        assertTrue(complete(g, "\"leaf\""));
        assertFalse(prefix(g, "{\"v\": 1, \"kids\": [{\"v\": null, \"kids\": []}, {\"v\": 2, \"kids\": []}, "));
        assertFalse(prefix(g, "\"lead"));
    }

    @Test
    void arrayBounds() throws Exception {
        Grammar g = schema("{\"type\": \"array\", \"items\": {\"type\": \"boolean\"}, \"minItems\": 1, \"maxItems\": 2}");
        assertFalse(prefix(g, "[]"));
        assertTrue(complete(g, "[true]"));
        assertTrue(complete(g, "[true, false]"));
        assertFalse(prefix(g, "[true, false,"));
    }

    @Test
    void unsupportedKeywordsAreNamed() {
        UnsupportedSchemaException e = org.junit.jupiter.api.Assertions.assertThrows(UnsupportedSchemaException.class,
                () -> schema("{\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"string\", \"pattern\": \"^a\"}}}"));
        assertTrue(e.getMessage().contains("'pattern'") && e.getMessage().contains("#/properties/a"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(UnsupportedSchemaException.class,
                () -> schema("{\"type\": \"string\", \"format\": \"uri\"}"));
        assertTrue(e.getMessage().contains("uri"), e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(UnsupportedSchemaException.class,
                () -> schema("{\"oneOf\": [{\"type\": \"string\"}]}"));
        assertTrue(e.getMessage().contains("'oneOf'"), e.getMessage());
    }
}
