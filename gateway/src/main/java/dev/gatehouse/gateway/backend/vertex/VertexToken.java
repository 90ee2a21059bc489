package dev.gatehouse.gateway.backend.vertex;

import com.google.auth.oauth2.GoogleCredentials;
import dev.gatehouse.gateway.backend.Credentials;
import dev.gatehouse.gateway.chat.ApiException;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * OAuth2 access tokens for Vertex AI from Google's auth library: the credentials JSON gatehouse.yaml
 * names (a service-account key: a JWT signed with its private key is traded at its token_uri), or
 * Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud's user login, the
 * metadata server on Google Cloud). The library keeps the token and fetches a new one before it
 * expires; a token is only ever put in a request header, never in a message or a log line.
 */
final class VertexToken {
    private static final Logger LOG = Logger.getLogger(VertexToken.class.getName());
    static final String SCOPE = "https://www.googleapis.com/auth/cloud-platform";

    private final String provider;
    private final byte[] credentialsJson;
    private volatile GoogleCredentials credentials; // loaded on first use: ADC may ask the metadata server

    /** @param credentialsJson the credentials file's contents; null for Application Default Credentials */
    VertexToken(String provider, byte[] credentialsJson) {
        this.provider = provider;
        this.credentialsJson = credentialsJson;
    }

    /** The headers that authenticate a request to {@code uri}: Authorization, and x-goog-user-project for user credentials with a quota project. */
    Map<String, List<String>> headers(URI uri) {
        try {
            return credentials().getRequestMetadata(uri);
        } catch (IOException | RuntimeException e) {
            // the library's message may quote the token endpoint's answer: scrubbed, and only in the log
            LOG.log(Level.WARNING, "provider ''{0}'': no Google access token: {1}: {2}",
                    new Object[] {provider, e.getClass().getSimpleName(), Credentials.scrub(String.valueOf(e.getMessage()), null)});
            throw new ApiException(502, "server_error", "upstream_auth_failed", null,
                    "Provider '" + provider + "' could not get a Google access token.", null);
        }
    }

    /** Vertex refused the token (revoked, or the key was rotated): the next request loads the credentials and gets a new one. */
    void forget() {
        credentials = null;
    }

    private GoogleCredentials credentials() throws IOException {
        GoogleCredentials c = credentials;
        if (c == null) {
            synchronized (this) {
                c = credentials;
                if (c == null) {
                    c = credentialsJson == null ? GoogleCredentials.getApplicationDefault()
                            : GoogleCredentials.fromStream(new ByteArrayInputStream(credentialsJson));
                    credentials = c = c.createScoped(List.of(SCOPE)); // user credentials ignore it
                }
            }
        }
        return c;
    }
}
