package dev.gatehouse.gateway.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** What is taken out of provider error text before a client sees it, and what is left alone. */
class CredentialsTest {
    @ParameterizedTest
    @ValueSource(strings = {
            "sk-proj-Ab3dEf6hIj9kLmN0pQrStUvWxYz012345",      // OpenAI project key
            "sk-Ab3dEf6hIj9kLmN0pQrStUvWxYz0123456789abcd",  // OpenAI legacy key
            "sk-ant-api03-Ab3dEf6hIj9kLmN0pQrStUvWxYz-0123456789_abcdefAA", // Anthropic
            "sk-or-v1-0123456789abcdef0123456789abcdef",       // OpenRouter
            "sk-abc1***********************wxyz",              // OpenAI's own partial quote
            "AIzaSyA-1234567890abcdefghijklmnopqrstu",         // Google
            "ya29.a0AfH6SMBx-Ab3dEf6hIj9kLmN0pQrSt.UvWxYz0123", // a Google OAuth2 access token (Vertex AI)
            "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLWJ5dGVz", // a JWT
            "0123456789abcdef0123456789abcdef",                // Azure: 32 hex digits
            "gsk_Ab3dEf6hIj9kLmN0pQrStUvWxYz0123456789abcdefgh", // Groq, any other long key shape
    })
    void providerKeyShapesAreRemoved(String secret) {
        String scrubbed = Credentials.scrub("Incorrect API key provided: " + secret + ". See the docs.", null);
        assertEquals("Incorrect API key provided: ***. See the docs.", scrubbed);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "Authorization: Bearer abcdefghijklmnop.qrstuvwx_0123", "authorization: bearer ABCDEFGHIJKLMNOPQRST",
            "Authorization: Basic dXNlcjpwYXNzd29yZDEyMzQ1Ng==", "request to /v1/x?api_key=abc123def456 failed",
            "header x-api-key: 'zyxw9876vuts' refused", "{\"password\": \"hunter22hunter\"}", "access_token=ya29.a0AfH6SMBx",
    })
    void credentialsAfterTheirNamesAreRemovedKeepingTheName(String text) {
        String scrubbed = Credentials.scrub(text, null);
        assertTrue(scrubbed.contains("***"), scrubbed);
        for (String secret : new String[]{"abcdefghijklmnop", "ABCDEFGHIJ", "dXNlcjpw", "abc123def456", "zyxw9876", "hunter22", "ya29"}) {
            assertFalse(scrubbed.contains(secret), scrubbed);
        }
        assertTrue(scrubbed.toLowerCase().matches(".*(bearer|basic|api_key|x-api-key|password|access_token).*"), scrubbed);
    }

    @Test
    void ourOwnKeyGoesWhateverItsShape() {
        assertEquals("key *** refused", Credentials.scrub("key short-own-key refused", "short-own-key"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "This model's maximum context length is 128000 tokens. However, your messages resulted in 130017 tokens.",
            "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
            "Rate limit reached for gpt-4o-mini-2024-07-18 in organization org-abc on requests per min (RPM): Limit 3.",
            "The model `claude-3-5-sonnet-20241022` does not exist or you do not have access to it.",
            "max_tokens: 10000 > 8192, which is the maximum allowed number of output tokens for this model",
            "Authorization header must use the Bearer scheme; a basic example is in the docs.",
            "Please use https://generativelanguage.googleapis.com/v1beta/models/gemini-1.5-pro:generateContent",
            "Unknown name \"max_token\": Cannot find field. Invalid JSON payload received at task-scheduler.",
    })
    void ordinaryErrorTextIsLeftAlone(String text) {
        assertEquals(text, Credentials.scrub(text, "sk-our-own-key-0123456789"));
    }
}
