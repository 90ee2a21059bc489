package dev.gatehouse.gateway.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.net.http.HttpHeaders;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProviderHttpTest {
    static final Instant NOW = Instant.parse("2015-10-21T07:28:00Z");

    static Long retryAfter(String... nameValues) {
        Map<String, List<String>> map = new java.util.LinkedHashMap<>();
        for (int i = 0; i < nameValues.length; i += 2) {
            map.put(nameValues[i], List.of(nameValues[i + 1]));
        }
        return ProviderHttp.retryAfterMillis(HttpHeaders.of(map, (name, value) -> true), NOW);
    }

    @Test
    void retryAfterInEveryFormProvidersSend() {
        assertEquals(20_000L, retryAfter("retry-after", "20"), "seconds");
        assertEquals(1_500L, retryAfter("retry-after", "20", "retry-after-ms", "1500"), "OpenAI's retry-after-ms wins");
        assertEquals(1_501L, retryAfter("retry-after-ms", "1500.2"), "rounded up, never shorter than asked");
        assertEquals(3_000L, retryAfter("retry-after", "Wed, 21 Oct 2015 07:28:03 GMT"), "an HTTP date");
        assertEquals(0L, retryAfter("retry-after", "Wed, 21 Oct 2015 07:27:00 GMT"), "a date gone by: now");
        assertNull(retryAfter("retry-after", "soon"));
        assertNull(retryAfter("retry-after", "-5"));
        assertNull(retryAfter());
    }
}
