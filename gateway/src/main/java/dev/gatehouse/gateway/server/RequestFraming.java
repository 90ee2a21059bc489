package dev.gatehouse.gateway.server;

import dev.gatehouse.gateway.api.openai.OpenAiApi;
import dev.gatehouse.gateway.chat.ApiException;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

/**
 * Refuses a request that gives both Content-Length and Transfer-Encoding. RFC 9112 lets a server
 * go by Transfer-Encoding alone, but a proxy in front that goes by Content-Length would see another
 * request boundary than Gatehouse does (request smuggling); nothing honest sends both.
 */
final class RequestFraming implements Filter {
    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        if (req.headers().contains(HeaderNames.CONTENT_LENGTH) && req.headers().contains(HeaderNames.TRANSFER_ENCODING)) {
            res.header(HeaderValues.CONNECTION_CLOSE);
            OpenAiApi.send(res, ApiException.invalid(null,
                    "The request has both Content-Length and Transfer-Encoding; send one of them."));
            throw new CloseConnectionException("ambiguous request framing"); // its body is not read as a next request
        }
        chain.proceed();
    }
}
