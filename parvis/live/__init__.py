"""Live audio rooms: scheduling, roles, the audio relay, join-storm admission, fan-out."""
