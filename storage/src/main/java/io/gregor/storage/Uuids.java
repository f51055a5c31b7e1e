package io.gregor.storage;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.UUID;

/** Kafka-style Uuid strings: 16 random bytes as URL-safe base64 without padding (22 chars). */
public final class Uuids {
    public static final String ZERO = "AAAAAAAAAAAAAAAAAAAAAA";

    private Uuids() {
    }

    public static String random() {
        while (true) {
            UUID u = UUID.randomUUID();
            ByteBuffer b = ByteBuffer.allocate(16);
            b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
            String s = Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
            // Kafka avoids ids that look like command-line flags and the reserved all-zero / metadata ids.
            if (!s.startsWith("-") && !s.equals(ZERO) && !s.equals("AAAAAAAAAAAAAAAAAAAAAQ")) {
                return s;
            }
        }
    }
}
