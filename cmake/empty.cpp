// Placeholder for a concept folder that has no sources yet.
