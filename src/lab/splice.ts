/** Joins two sockets both ways; when either fails or closes, the other is destroyed too. */
import type net from 'node:net'

export function splice(a: net.Socket, b: net.Socket): void {
  a.on('error', () => b.destroy())
  b.on('error', () => a.destroy())
  a.on('close', () => b.destroy())
  b.on('close', () => a.destroy())
  a.pipe(b)
  b.pipe(a)
}
