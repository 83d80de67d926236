"""Shield: limits that keep the square up (body sizes now; rate limits and shedding later)."""
