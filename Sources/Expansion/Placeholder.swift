// Expansion
