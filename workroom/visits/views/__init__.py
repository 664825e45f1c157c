"""The visits' pages: staff (queue console, records, kiosks), the kiosk and phone
check-in, and the public display board."""
